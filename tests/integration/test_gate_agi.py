"""The whole gate in-process: FastAGI → facts → policy → durable decision → verdict."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from emergency_spellings import HOSTILE

from dialguard.agi.testing import FakeAsterisk, header_block, mset_assignments
from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.config import Settings, load_settings
from dialguard.policy.model import NumberType, RegisteredNumber
from dialguard.storage.migrate import init_database
from dialguard.storage.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
CALLER = "+861088886666"
CALLEE = "+8613800138000"


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        cli={
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/dg.db"},
            "agi": {"port": "0"},
            "api": {"enabled": "false"},
            "esl": {"port": "0"},
            "recording": {"enabled": "false"},
            "audit": {
                "signing_key_file": str(tmp_path / "audit-signing.key"),
                "checkpoint_file": str(tmp_path / "audit-checkpoints.jsonl"),
            },
            "dsr": {"hash_key_file": str(tmp_path / "subject-hash.key")},
        },
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    settings = settings_for(tmp_path)
    await init_database(settings)
    opened = await Store.open(settings)
    async with opened.transaction() as tx:
        await tx.tenants.ensure("acme")
        await tx.numbers.add(
            RegisteredNumber(
                number=CALLER,
                tenant="acme",
                purposes=frozenset({"callback"}),
                inbound_enabled=True,
                outbound_enabled=True,
                number_type=NumberType.CALL_CENTRE,
                filing_ref=None,
                filed_on=None,
                active=True,
            )
        )
        await tx.consents.add(
            CALLEE,
            "acme",
            "callback",
            evidence_ref="ticket-42",
            channel="web",
            given_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
        )
    yield opened
    await opened.close()


@pytest.fixture
async def gate(tmp_path: Path, store: Store) -> AsyncIterator[GateApp]:
    app = GateApp(settings_for(tmp_path), Clock(WEDNESDAY_10))
    await app.start()
    yield app
    await app.stop()


def fake(gate: GateApp) -> FakeAsterisk:
    assert gate.agi is not None
    return FakeAsterisk(gate.agi.port)


async def test_allowed_call_is_durable_before_the_verdict(gate: GateApp, store: Store) -> None:
    peer = await fake(gate).connect(header_block(callerid="01088886666"))
    reader = peer._reader
    line = (await reader.readline()).decode()
    verdict = mset_assignments(line.rstrip("\n"))
    assert verdict["DIALGUARD_VERDICT"] == "ALLOW"
    assert verdict["DIALGUARD_RECORDING"] == "dg-1754470000.7"
    # The verdict is on the wire: its decision must already be committed.
    async with store.transaction() as tx:
        stored = await tx.decisions.get(verdict["DIALGUARD_DECISION_ID"])
    assert stored is not None
    assert stored.verdict.value == "allow"
    assert stored.caller == CALLER and stored.callee == CALLEE
    assert stored.consent_ref == "ticket-42"
    assert stored.attempt.call_id == "1754470000.7"
    assert stored.policy_version == "cn-2026.1"
    await peer.send(b"200 result=0\n")
    await peer.close()


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (header_block(callerid="01099990000"), "callerid.unregistered"),
        (header_block(callingpres=32), "callerid.hidden"),
        (header_block(callerid="anonymous"), "callerid.hidden"),
        (header_block(args=("13800138000", "acme", "callback", "", "user")), "callerid.hidden"),
        (header_block(args=("13800138000", "acme", "callback", "", "header")), "callerid.hidden"),
        (
            header_block(args=("13800138000", "acme", "callback", "", "none", "id")),
            "callerid.hidden",
        ),
        (header_block(args=("13900139000", "acme", "callback")), "consent.missing"),
        (header_block(args=("13800138000", "acme", "marketing")), "purpose.not_filed"),
        (header_block(args=("not-a-number", "acme", "callback")), "callee.invalid"),
    ],
)
async def test_denials_carry_their_first_reason(
    gate: GateApp, store: Store, block: bytes, reason: str
) -> None:
    record = await fake(gate).call(block)
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == reason
    assert record.variables["DIALGUARD_RECORDING"] == ""
    async with store.transaction() as tx:
        stored = await tx.decisions.get(record.variables["DIALGUARD_DECISION_ID"])
    assert stored is not None and stored.first_reason == reason


async def test_fourth_call_in_a_day_is_denied(tmp_path: Path, store: Store) -> None:
    verdicts = []
    for hour in (7, 8, 9, 10):
        at = WEDNESDAY_10.replace(hour=hour + 3)  # 10:00..13:00 Beijing
        app = GateApp(settings_for(tmp_path), Clock(at))
        await app.start()
        try:
            record = await fake(app).call(header_block(callerid="01088886666"))
        finally:
            await app.stop()
        verdicts.append(
            (record.variables["DIALGUARD_VERDICT"], record.variables["DIALGUARD_REASON"])
        )
    assert verdicts == [("ALLOW", ""), ("ALLOW", ""), ("ALLOW", ""), ("DENY", "frequency.exceeded")]


async def test_inbound_call_presenting_our_own_number_is_refused(gate: GateApp) -> None:
    block = header_block("inbound", callerid="01088886666", args=("01088886666",))
    record = await fake(gate).call(block)
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == "callerid.spoofed"
    stranger = header_block("inbound", callerid="13700137000", args=("01088886666",))
    record = await fake(gate).call(stranger)
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW"


@pytest.mark.parametrize(
    "dialled", [d for d in HOSTILE if d and d.strip() == d and "\x00" not in d]
)
async def test_hostile_emergency_spellings_are_checked_like_any_call(
    gate: GateApp, store: Store, dialled: str
) -> None:
    """What reaches the gate as ``+110`` or ``*110`` is not the pack's 110: denied as a number
    that is not valid, with every other rule's objections, and recorded like any call."""
    record = await fake(gate).call(header_block(args=(dialled, "acme", "callback")))
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == "callee.invalid"
    async with store.transaction() as tx:
        stored = await tx.decisions.get(record.variables["DIALGUARD_DECISION_ID"])
    assert stored is not None
    assert "emergency.bypass" not in [r.code for r in stored.reasons]


async def test_the_packs_emergency_number_is_allowed_through_the_gate(gate: GateApp) -> None:
    record = await fake(gate).call(header_block(args=("110", "acme", "callback")))
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW"
    assert record.variables["DIALGUARD_REASON"] == "emergency.bypass"


async def test_a_denial_time_lifts_sets_next_allowed_on_the_channel(
    tmp_path: Path, store: Store
) -> None:
    """22:00 at the callee: quiet hours until 09:00 tomorrow, told to the dialplan in
    DIALGUARD_NEXT_ALLOWED; a denial that waiting does not lift leaves it empty."""
    app = GateApp(settings_for(tmp_path), Clock(WEDNESDAY_10.replace(hour=22)))
    await app.start()
    try:
        quiet = await fake(app).call(header_block(callerid="01088886666"))
        unregistered = await fake(app).call(header_block(callerid="01099990000"))
    finally:
        await app.stop()
    assert quiet.variables["DIALGUARD_VERDICT"] == "DENY"
    assert quiet.variables["DIALGUARD_REASON"] == "time.quiet_hours"
    assert quiet.variables["DIALGUARD_NEXT_ALLOWED"] == "2026-11-26T09:00:00+08:00"
    assert unregistered.variables["DIALGUARD_VERDICT"] == "DENY"
    assert unregistered.variables["DIALGUARD_NEXT_ALLOWED"] == ""
    async with store.transaction() as tx:
        stored = await tx.decisions.get(quiet.variables["DIALGUARD_DECISION_ID"])
    assert stored is not None and stored.next_allowed_at is not None
    assert stored.next_allowed_at.isoformat() == "2026-11-26T09:00:00+08:00"


@pytest.mark.parametrize("privacy", [("", "", ""), ("none", "", ""), ("session", "critical", "")])
async def test_privacy_none_or_session_does_not_hide_the_caller(
    gate: GateApp, privacy: tuple[str, ...]
) -> None:
    args = ("13800138000", "acme", "callback", "", *privacy)
    record = await fake(gate).call(header_block(args=args))
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW", record.variables

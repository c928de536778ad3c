"""The whole gate in-process: FastAGI → facts → policy → durable decision → verdict."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from builders import CALLEE, WEDNESDAY_10, asterisk_for, gate_settings
from builders import GATE_CALLER as CALLER
from emergency_spellings import HOSTILE

from dialguard.agi.testing import header_block, mset_assignments
from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.storage.store import Store


@pytest.fixture
async def gate(tmp_path: Path, acme_store: Store) -> AsyncIterator[GateApp]:
    app = GateApp(gate_settings(tmp_path), Clock(WEDNESDAY_10))
    await app.start()
    yield app
    await app.stop()


async def test_allowed_call_is_durable_before_the_verdict(gate: GateApp, acme_store: Store) -> None:
    peer = await asterisk_for(gate).connect(header_block(callerid="01088886666"))
    reader = peer._reader
    line = (await reader.readline()).decode()
    verdict = mset_assignments(line.rstrip("\n"))
    assert verdict["DIALGUARD_VERDICT"] == "ALLOW"
    assert verdict["DIALGUARD_RECORDING"] == "dg-1754470000.7"
    # The verdict is on the wire: its decision must already be committed.
    async with acme_store.transaction() as tx:
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
    gate: GateApp, acme_store: Store, block: bytes, reason: str
) -> None:
    record = await asterisk_for(gate).call(block)
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == reason
    assert record.variables["DIALGUARD_RECORDING"] == ""
    async with acme_store.transaction() as tx:
        stored = await tx.decisions.get(record.variables["DIALGUARD_DECISION_ID"])
    assert stored is not None and stored.first_reason == reason


async def test_fourth_call_in_a_day_is_denied(tmp_path: Path, acme_store: Store) -> None:
    verdicts = []
    for hour in (7, 8, 9, 10):
        at = WEDNESDAY_10.replace(hour=hour + 3)  # 10:00..13:00 Beijing
        app = GateApp(gate_settings(tmp_path), Clock(at))
        await app.start()
        try:
            record = await asterisk_for(app).call(header_block(callerid="01088886666"))
        finally:
            await app.stop()
        verdicts.append(
            (record.variables["DIALGUARD_VERDICT"], record.variables["DIALGUARD_REASON"])
        )
    assert verdicts == [("ALLOW", ""), ("ALLOW", ""), ("ALLOW", ""), ("DENY", "frequency.exceeded")]


async def test_inbound_call_presenting_our_own_number_is_refused(gate: GateApp) -> None:
    block = header_block("inbound", callerid="01088886666", args=("01088886666",))
    record = await asterisk_for(gate).call(block)
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == "callerid.spoofed"
    stranger = header_block("inbound", callerid="13700137000", args=("01088886666",))
    record = await asterisk_for(gate).call(stranger)
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW"


@pytest.mark.parametrize(
    "dialled", [d for d in HOSTILE if d and d.strip() == d and "\x00" not in d]
)
async def test_hostile_emergency_spellings_are_checked_like_any_call(
    gate: GateApp, acme_store: Store, dialled: str
) -> None:
    """What reaches the gate as ``+110`` or ``*110`` is not the pack's 110: denied as a number
    that is not valid, with every other rule's objections, and recorded like any call."""
    record = await asterisk_for(gate).call(header_block(args=(dialled, "acme", "callback")))
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == "callee.invalid"
    async with acme_store.transaction() as tx:
        stored = await tx.decisions.get(record.variables["DIALGUARD_DECISION_ID"])
    assert stored is not None
    assert "emergency.bypass" not in [r.code for r in stored.reasons]


async def test_the_packs_emergency_number_is_allowed_through_the_gate(gate: GateApp) -> None:
    record = await asterisk_for(gate).call(header_block(args=("110", "acme", "callback")))
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW"
    assert record.variables["DIALGUARD_REASON"] == "emergency.bypass"


async def test_a_denial_time_lifts_sets_next_allowed_on_the_channel(
    tmp_path: Path, acme_store: Store
) -> None:
    """22:00 at the callee: quiet hours until 09:00 tomorrow, told to the dialplan in
    DIALGUARD_NEXT_ALLOWED; a denial that waiting does not lift leaves it empty."""
    app = GateApp(gate_settings(tmp_path), Clock(WEDNESDAY_10.replace(hour=22)))
    await app.start()
    try:
        quiet = await asterisk_for(app).call(header_block(callerid="01088886666"))
        unregistered = await asterisk_for(app).call(header_block(callerid="01099990000"))
    finally:
        await app.stop()
    assert quiet.variables["DIALGUARD_VERDICT"] == "DENY"
    assert quiet.variables["DIALGUARD_REASON"] == "time.quiet_hours"
    assert quiet.variables["DIALGUARD_NEXT_ALLOWED"] == "2026-11-26T09:00:00+08:00"
    assert unregistered.variables["DIALGUARD_VERDICT"] == "DENY"
    assert unregistered.variables["DIALGUARD_NEXT_ALLOWED"] == ""
    async with acme_store.transaction() as tx:
        stored = await tx.decisions.get(quiet.variables["DIALGUARD_DECISION_ID"])
    assert stored is not None and stored.next_allowed_at is not None
    assert stored.next_allowed_at.isoformat() == "2026-11-26T09:00:00+08:00"


@pytest.mark.parametrize("privacy", [("", "", ""), ("none", "", ""), ("session", "critical", "")])
async def test_privacy_none_or_session_does_not_hide_the_caller(
    gate: GateApp, privacy: tuple[str, ...]
) -> None:
    args = ("13800138000", "acme", "callback", "", *privacy)
    record = await asterisk_for(gate).call(header_block(args=args))
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW", record.variables

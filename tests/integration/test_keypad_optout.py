"""The callee's keypad opt-out over FastAGI: ``optout,<decision id>`` → DNC entry, audited."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.config import Settings, load_settings
from dialguard.ops.dnc import KEYPAD_SOURCE
from dialguard.policy.model import NumberType, RegisteredNumber
from dialguard.storage.migrate import init_database
from dialguard.storage.store import Store
from dialguard.storage.subject_key import SubjectKey

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLER = "+861088886666"
CALLEE = "+8613800138000"


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        cli={
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/dg.db"},
            "agi": {"port": "0"},
            "api": {"enabled": "false"},
            "esl": {"enabled": "false"},
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
    SubjectKey.create(Path(settings.dsr.hash_key_file))
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
    app = GateApp(settings_for(tmp_path), Clock(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)))
    await app.start()
    yield app
    await app.stop()


def fake(gate: GateApp) -> FakeAsterisk:
    assert gate.agi is not None
    return FakeAsterisk(gate.agi.port)


async def _allowed_call(agi: FakeAsterisk) -> str:
    record = await agi.call(header_block())
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW", record
    return record.variables["DIALGUARD_DECISION_ID"]


async def _optout(agi: FakeAsterisk, decision_id: str) -> list[str]:
    record = await agi.call(header_block("optout", args=(decision_id,)))
    return record.commands


async def test_keypad_optout_lists_the_callee_and_the_next_call_is_denied(
    gate: GateApp,
    store: Store,
) -> None:
    agi = fake(gate)
    decision_id = await _allowed_call(agi)
    commands = await _optout(agi, decision_id)
    assert commands == ['EXEC "Set" "DIALGUARD_OPTOUT=callee.optout"']
    async with store.transaction() as tx:
        history = await tx.dnc.history(CALLEE)
        tail = await tx.audit.tail(5)
    assert [(r.entry.source, r.entry.tenant, r.removed_at) for r in history] == [
        (KEYPAD_SOURCE, "acme", None)
    ]
    optouts = [e for e in tail if e.action == "dnc.optout"]
    assert len(optouts) == 1
    detail = (
        optouts[0].detail if isinstance(optouts[0].detail, dict) else json.loads(optouts[0].detail)
    )
    assert detail["channel"] == KEYPAD_SOURCE
    assert detail["decision_id"] == decision_id
    assert CALLEE[1:] not in json.dumps(detail) and CALLEE[1:] not in optouts[0].subject
    record = await agi.call(header_block(uniqueid="1754470001.8"))
    assert (record.variables["DIALGUARD_VERDICT"], record.variables["DIALGUARD_REASON"]) == (
        "DENY",
        "callee.dnc",
    )


async def test_pressing_twice_stores_one_entry(gate: GateApp, store: Store) -> None:
    agi = fake(gate)
    decision_id = await _allowed_call(agi)
    results = await asyncio.gather(*(_optout(agi, decision_id) for _ in range(4)))
    assert all(c == ['EXEC "Set" "DIALGUARD_OPTOUT=callee.optout"'] for c in results)
    async with store.transaction() as tx:
        history = await tx.dnc.history(CALLEE)
    assert len(history) == 1


async def test_unknown_or_denied_decision_lists_nobody(gate: GateApp, store: Store) -> None:
    agi = fake(gate)
    denied = await agi.call(header_block(args=("13800138000", "acme", "marketing")))
    assert denied.variables["DIALGUARD_VERDICT"] == "DENY"
    for decision_id in (
        "00000000-0000-0000-0000-000000000000",
        denied.variables["DIALGUARD_DECISION_ID"],
        "bad,id$",
        "",
    ):
        commands = await _optout(agi, decision_id)
        assert commands == ['EXEC "Set" "DIALGUARD_OPTOUT=gate.bad-request"'], decision_id
    async with store.transaction() as tx:
        assert await tx.dnc.history(CALLEE) == ()

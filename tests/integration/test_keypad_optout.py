"""The callee's keypad opt-out over FastAGI: ``optout,<decision id>`` → DNC entry, audited."""

from __future__ import annotations

import asyncio
import json

from builders import CALLEE, asterisk_for

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.ops.dnc import KEYPAD_SOURCE
from dialguard.storage.store import Store


async def _allowed_call(agi: FakeAsterisk) -> str:
    record = await agi.call(header_block())
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW", record
    return record.variables["DIALGUARD_DECISION_ID"]


async def _optout(agi: FakeAsterisk, decision_id: str) -> list[str]:
    record = await agi.call(header_block("optout", args=(decision_id,)))
    return record.commands


async def test_keypad_optout_lists_the_callee_and_the_next_call_is_denied(
    optout_gate: GateApp,
    optout_store: Store,
) -> None:
    agi = asterisk_for(optout_gate)
    decision_id = await _allowed_call(agi)
    commands = await _optout(agi, decision_id)
    assert commands == ['EXEC "Set" "DIALGUARD_OPTOUT=callee.optout"']
    async with optout_store.transaction() as tx:
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


async def test_pressing_twice_stores_one_entry(optout_gate: GateApp, optout_store: Store) -> None:
    agi = asterisk_for(optout_gate)
    decision_id = await _allowed_call(agi)
    results = await asyncio.gather(*(_optout(agi, decision_id) for _ in range(4)))
    assert all(c == ['EXEC "Set" "DIALGUARD_OPTOUT=callee.optout"'] for c in results)
    async with optout_store.transaction() as tx:
        history = await tx.dnc.history(CALLEE)
    assert len(history) == 1


async def test_unknown_or_denied_decision_lists_nobody(
    optout_gate: GateApp, optout_store: Store
) -> None:
    agi = asterisk_for(optout_gate)
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
    async with optout_store.transaction() as tx:
        assert await tx.dnc.history(CALLEE) == ()

"""Frequency caps hold under concurrency: attempts decided at the same moment, in one gate or in
two gates sharing one database (an SQLite file, one PostgreSQL), never allow more calls to a
callee than the pack's windows, and the audit log still vouches for every (settled) row."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import callback_number
from pg_databases import MigratedCopies

from dialguard.app import book_from
from dialguard.audit import service
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.gate.service import GateService
from dialguard.policy.model import CallAttempt, Decision, Verdict
from dialguard.settings.audit import AuditSettings
from dialguard.storage.decision_log import DecisionLog
from dialguard.storage.facts import fact_reader
from dialguard.storage.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
CALLER = "+861088886666"
BURST = 20
SEEDED = ("consents/", "registered_numbers/")


def callee(n: int) -> str:
    return f"+86138001{n:05d}"


def attempt(n: int = 0, call: int = 0) -> CallAttempt:
    return CallAttempt(
        caller="01088886666",
        callee=callee(n)[3:],
        tenant="acme",
        purpose="callback",
        call_id=f"call-{n}-{call}",
    )


async def seed(store: Store, callees: int) -> None:
    async with store.transaction() as tx:
        await tx.tenants.ensure("acme")
        await tx.numbers.add(callback_number(CALLER))
        for n in range(callees):
            await tx.consents.add(
                callee(n),
                "acme",
                "callback",
                evidence_ref=f"ticket-{n}",
                channel="web",
                given_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
            )


class Node:
    """One gate: its own store (connections), decision log and service, on a shared database."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def __aenter__(self) -> GateService:
        self.store = await Store.open(self.settings)
        self.log = DecisionLog(self.store)
        self.log.start()
        self.facts = fact_reader(self.store)
        self.gate = GateService(self.facts, book_from(self.settings), self.clock, "CN", self.log)
        return self.gate

    async def __aexit__(self, *_: object) -> None:
        self.facts.close()
        await self.log.stop()
        await self.store.close()


@pytest.fixture
async def settings(
    db_settings: Settings, tmp_path: Path, migrated_copies: MigratedCopies
) -> AsyncIterator[Settings]:
    audited = replace(
        db_settings,
        audit=AuditSettings(
            checkpoint_file=str(tmp_path / "cp.jsonl"),
            signing_key_file=str(tmp_path / "signing.key"),
        ),
    )
    await migrated_copies.migrate(audited)
    store = await Store.open(audited)
    try:
        await seed(store, 50)
    finally:
        await store.close()
    yield audited


async def stored(settings: Settings) -> list[Decision]:
    store = await Store.open(settings)
    try:
        async with store.transaction(readonly=True) as tx:
            return list(await tx.decisions.list(limit=10_000))
    finally:
        await store.close()


async def assert_decisions_vouched_for(settings: Settings) -> None:
    """``audit verify``: the chain holds and every decision row, settled or not, is the row its
    entry vouches for. (The seeded consents were inserted without audited operations.)"""
    report = await service.verify(settings)
    about_decisions = [p for p in report.problems if not (p.row or "").startswith(SEEDED)]
    assert about_decisions == []
    assert report.entries >= BURST


def verdicts(decisions: list[Decision]) -> Counter[str]:
    return Counter(d.verdict.value for d in decisions)


async def test_a_burst_to_one_callee_allows_exactly_one(settings: Settings) -> None:
    async with Node(settings, Clock(WEDNESDAY_10)) as gate:
        answered = await asyncio.gather(*(gate.decide(attempt(0, k)) for k in range(BURST)))
    assert verdicts(answered) == {"allow": 1, "deny": BURST - 1}
    assert {d.first_reason for d in answered if not d.allowed} == {"frequency.exceeded"}
    rows = await stored(settings)
    assert verdicts(rows) == {"allow": 1, "deny": BURST - 1}
    by_id = {d.decision_id: d for d in rows}
    for decision in answered:  # the verdict sent is the row recorded
        assert by_id[decision.decision_id].verdict is decision.verdict
    if settings.database.url.startswith("sqlite"):
        # The call path reads SQLite without suspending: the in-flight ALLOW is always counted,
        # so the optimistic decision is already right and no ALLOW had to be settled.
        assert not [d for d in rows if d.reasons and d.reasons[0].message.endswith("same time")]
    await assert_decisions_vouched_for(settings)


async def test_two_gates_on_one_database_allow_exactly_one(settings: Settings) -> None:
    clock = Clock(WEDNESDAY_10)
    async with Node(settings, clock) as left, Node(settings, clock) as right:
        gates = (left, right)
        answered = await asyncio.gather(*(gates[k % 2].decide(attempt(0, k)) for k in range(BURST)))
    assert verdicts(answered) == {"allow": 1, "deny": BURST - 1}
    rows = await stored(settings)
    assert verdicts(rows) == {"allow": 1, "deny": BURST - 1}
    await assert_decisions_vouched_for(settings)


async def test_the_daily_window_holds_across_bursts_spread_over_time(settings: Settings) -> None:
    """China: 1 per 10 min, 3 per 24 h. A burst every 11 minutes: one allowed in each of the
    first three, none after."""
    allowed_per_burst = []
    async with AsyncExitStack() as stack:
        left = await stack.enter_async_context(Node(settings, Clock(WEDNESDAY_10)))
        right = await stack.enter_async_context(Node(settings, Clock(WEDNESDAY_10)))
        for step in range(6):
            clock = Clock(WEDNESDAY_10 + timedelta(minutes=11 * step))
            left.clock = right.clock = clock
            answered = await asyncio.gather(
                *((left, right)[k % 2].decide(attempt(0, 100 * step + k)) for k in range(BURST))
            )
            allowed_per_burst.append(sum(d.allowed for d in answered))
    assert allowed_per_burst == [1, 1, 1, 0, 0, 0]
    assert verdicts(await stored(settings))["allow"] == 3


async def test_many_callees_at_once_are_all_allowed(settings: Settings) -> None:
    async with Node(settings, Clock(WEDNESDAY_10)) as gate:
        answered = await asyncio.gather(*(gate.decide(attempt(n)) for n in range(50)))
    assert [d.verdict for d in answered] == [Verdict.ALLOW] * 50
    assert verdicts(await stored(settings)) == {"allow": 50}

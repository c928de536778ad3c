"""The hourly roll-up of the decision log says what the rows say, on both backends: after group
commits through the gate's own writer (:class:`DecisionLog`: the compiled SQLite writer, the
repositories on PostgreSQL), after inserts through the repository, and after a batch that failed
(rolled back with its rows). Migration ``i18scale`` fills it from decisions stored before it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from dialguard.config import Settings
from dialguard.policy.model import Decision, Reason, Verdict
from dialguard.storage import StorageError, Store, head_revision, init_database
from dialguard.storage.connection import create_engine
from dialguard.storage.console import DecisionFilter
from dialguard.storage.decision_log import DecisionLog
from dialguard.storage.decisions import decision_row
from dialguard.storage.migrate import alembic_config
from dialguard.storage.schema import decisions

T0 = datetime(2026, 11, 25, 1, 50, tzinfo=UTC)
EVERYTHING = DecisionFilter(
    T0 - timedelta(days=1), T0 + timedelta(days=1), among=("acme", "globex")
)
REASONS = (None, "callee.dnc", "time.quiet_hours", "gate.timeout")

Key = tuple[str, datetime, str, str | None]


def varied(make_decision: Callable[..., Decision], count: int, shift: int = 0) -> list[Decision]:
    """Decisions of two tenants, across three UTC hours, allowed and denied for several
    reasons."""
    out = []
    for i in range(count):
        reason = REASONS[(i + shift) % len(REASONS)]
        out.append(
            make_decision(
                tenant=("acme", "globex")[i % 2],
                decided_at=T0 + timedelta(minutes=7 * i + shift),
                verdict=Verdict.ALLOW if reason is None else Verdict.DENY,
                reasons=() if reason is None else (Reason(reason, "test"),),
            )
        )
    return out


def hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def rolled_up(store: Store) -> Counter[Key]:
    async with store.transaction(readonly=True) as tx:
        rows = await tx.console.by_hour(EVERYTHING)
        by_tenant = [
            (name, await tx.console.by_hour(DecisionFilter(EVERYTHING.start, EVERYTHING.end, name)))
            for name in ("acme", "globex")
        ]
    # the all-tenant sum is the sum of the tenants'
    assert sum(r.count for r in rows) == sum(r.count for _, hs in by_tenant for r in hs)
    return Counter(
        {(tenant, r.hour, r.verdict, r.reason): r.count for tenant, hs in by_tenant for r in hs}
    )


async def counted(store: Store) -> Counter[Key]:
    """The same counts, from the decision rows read back."""
    async with store.transaction(readonly=True) as tx:
        stored = await tx.decisions.list(since=EVERYTHING.start, limit=100_000)
    return Counter(
        (d.attempt.tenant, hour(d.decided_at), d.verdict.value, d.first_reason) for d in stored
    )


async def test_the_gates_writer_keeps_the_roll_up(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    log = DecisionLog(store, max_batch=16)
    log.start()
    try:
        await asyncio.gather(*(log.append(d) for d in varied(make_decision, 60)))
        # later commits add to the hours already there
        await asyncio.gather(*(log.append(d) for d in varied(make_decision, 25, shift=1)))
        # a batch that fails is rolled back whole, its counts with its rows
        twice = make_decision(decided_at=T0)
        await log.append(twice)
        with pytest.raises(StorageError):
            await log.append(twice)
    finally:
        await log.stop()
    expected = await counted(store)
    assert sum(expected.values()) == 86
    assert len({key[1] for key in expected}) >= 3
    assert await rolled_up(store) == expected


async def test_days_of_a_fixed_offset_sum_the_hours(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    async with store.transaction() as tx:
        # 7 minutes apart over 18 hours from 01:50 UTC: across midnight in UTC+8 and UTC-5
        await tx.decisions.add_many(varied(make_decision, 160))
    for offset in (timedelta(hours=8), timedelta(hours=-5)):
        zone = timezone(offset)
        async with store.transaction(readonly=True) as tx:
            days = await tx.console.by_day(EVERYTHING, offset)
            hours = await tx.console.by_hour(EVERYTHING)
        expected: Counter[tuple[datetime, str, str | None]] = Counter()
        for r in hours:
            local = r.hour.astimezone(zone)
            start = datetime(local.year, local.month, local.day, tzinfo=zone).astimezone(UTC)
            expected[start, r.verdict, r.reason] += r.count
        assert len({start for start, _, _ in expected}) == 2
        assert Counter({(d.hour, d.verdict, d.reason): d.count for d in days}) == expected


async def test_repository_inserts_keep_the_roll_up(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    for shift in range(3):
        async with store.transaction() as tx:
            await tx.decisions.add_many(varied(make_decision, 20, shift))
    expected = await counted(store)
    assert sum(expected.values()) == 60
    assert await rolled_up(store) == expected


def _to_i20(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "i20")


async def test_migration_fills_the_roll_up_from_stored_decisions(
    db_settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    engine = create_engine(db_settings.database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to_i20)
            # rows as code before the roll-up wrote them: no decision_hours rows with them, and
            # no notice columns (migration i20notice, later)
            rows = [decision_row(d) for d in varied(make_decision, 40)]
            for row in rows:
                del row["notice"], row["notice_prompt"]
            rows[0]["restricted"] = True  # counted: the roll-up counts what was decided
            await conn.execute(sa.insert(decisions), rows)
    finally:
        await engine.dispose()
    assert await init_database(db_settings) == head_revision()
    store = await Store.open(db_settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.tenants.ensure("globex")
        restricted = (rows[0]["tenant"], hour(T0), "allow", None)
        rolled = await rolled_up(store)
        expected = await counted(store)  # restricted rows are not listed: add the one back
        expected[restricted] += 1
        assert sum(rolled.values()) == 40
        assert rolled == expected
    finally:
        await store.close()

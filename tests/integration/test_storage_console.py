"""The console's and the quarterly report's queries on both backends (SQLite and PostgreSQL):
hour buckets, health and percentiles, top lists, keyset pages, restricted rows left out, the
quarter's outcomes, consent coverage and calls while DNC-listed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dialguard.policy.model import Decision, DncEntry, DncScope, Reason, Verdict
from dialguard.storage.console import DecisionFilter
from dialguard.storage.store import Store

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
DAY = DecisionFilter(T0 - timedelta(hours=12), T0 + timedelta(hours=12), tenant="acme")


async def seed(store: Store, make_decision: Callable[..., Decision]) -> None:
    rows = []
    for i in range(30):
        deny = i % 3 == 0
        rows.append(
            make_decision(
                decision_id=f"d-{i:02d}",
                decided_at=T0 - timedelta(minutes=10 * i),
                verdict=Verdict.DENY if deny else Verdict.ALLOW,
                reasons=(Reason("callee.dnc", "listed"),) if deny else (),
                latency_ms=float(i + 1),
                campaign="spring" if deny else None,
                consent_ref=None if deny or i == 1 else "web-1",
            )
        )
    rows.append(make_decision(decision_id="other", tenant="beta", decided_at=T0))
    async with store.transaction() as tx:
        await tx.tenants.ensure("acme")
        await tx.tenants.ensure("beta")
        await tx.decisions.add_many(rows)


async def test_counts_buckets_and_health(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    await seed(store, make_decision)
    async with store.transaction(readonly=True) as tx:
        hours = await tx.console.by_hour(DAY)
        latency = await tx.console.latency(DAY)
        top = await tx.console.top(DAY, "campaign")
        every = await tx.console.by_hour(replace(DAY, tenant=None, among=("acme", "beta")))
    assert sum(h.count for h in hours) == 30
    assert sum(h.count for h in every) == 31
    assert {h.hour.tzinfo for h in hours} == {UTC}
    assert {h.hour for h in hours if h.count} >= {T0.replace(minute=0), T0 - timedelta(hours=1)}
    assert sum(h.count for h in hours if h.verdict == "deny") == 10
    assert {h.reason for h in hours if h.verdict == "deny"} == {"callee.dnc"}
    assert (latency.decided, latency.p50_ms, latency.p99_ms) == (30, 15.0, 30.0)
    assert top == [("spring", 10)]


async def test_keyset_pages_cover_every_row_once(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    await seed(store, make_decision)
    seen: list[str] = []
    cursor = None
    async with store.transaction(readonly=True) as tx:
        while True:
            page, cursor = await tx.console.page(DAY, cursor, limit=7)
            seen += [d.decision_id for _, d in page]
            if cursor is None:
                break
    assert seen == [f"d-{i:02d}" for i in range(30)]


async def test_quarter_figures(store: Store, make_decision: Callable[..., Decision]) -> None:
    await seed(store, make_decision)
    async with store.transaction() as tx:
        await tx.dnc.add(
            DncEntry(
                number="+8613800138000",
                scope=DncScope.GLOBAL,
                tenant=None,
                campaign=None,
                source="optout:web",
                reason="asked",
                added_at=T0 - timedelta(minutes=95),
                expires_at=None,
                added_by="test",
            )
        )
        failed = make_decision(
            decision_id="t-1",
            decided_at=T0 + timedelta(hours=20),  # 2026-11-25 22:00 UTC
            verdict=Verdict.DENY,
            reasons=(Reason("gate.timeout", "no decision in time"),),
        )
        await tx.decisions.add_many([failed])
    start, end = T0 - timedelta(days=40), T0 + timedelta(days=30)
    async with store.transaction(readonly=True) as tx:
        outcomes = await tx.quarterly.outcomes("acme", start, end)
        coverage = await tx.quarterly.consent_coverage("acme", start, end)
        listed = await tx.quarterly.allowed_after_listing("acme", start, end)
        added = await tx.quarterly.dnc_added("acme", start, end)
        outages = await tx.quarterly.outages("acme", start, end)
    assert outcomes == {"allow": 20, "callee.dnc": 10, "gate.timeout": 1}
    assert coverage == (20, 19)
    # Listed 95 minutes before T0: the allowed calls at T0-90 … T0 (10-minute steps) came after.
    assert listed == len([i for i in range(10) if i % 3 != 0])
    assert added == {"optout:web": 1}
    assert outages == [("2026-11-25", "gate.timeout", 1)]

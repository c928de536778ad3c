"""Decision rows, the frequency lookup and frequency resets, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dialguard.policy.model import Decision, Direction, Reason, Verdict
from dialguard.storage import Store

CALLEE = "+8613800138000"
T0 = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
MakeDecision = Callable[..., Decision]


async def add(store: Store, *decisions: Decision) -> None:
    async with store.transaction() as tx:
        await tx.decisions.add_many(decisions)


async def test_a_decision_round_trips(store: Store, make_decision: MakeDecision) -> None:
    shanghai = timezone(timedelta(hours=8))
    decision = make_decision(
        verdict=Verdict.DENY,
        reasons=(Reason("dnc.global", "on the list"), Reason("quiet_hours", "22:10 local")),
        decided_at=T0.astimezone(shanghai),
        campaign="spring",
        call_id="1717380000.42",
        direction=Direction.OUTBOUND,
        consent_ref="ivr-recording://1",
        record=True,
        retention_class="marketing-3y",
        latency_ms=2.5,
    )
    await add(store, decision)
    async with store.transaction(readonly=True) as tx:
        back = await tx.decisions.get(decision.decision_id)
        assert await tx.decisions.get("no-such-id") is None
    assert back == decision
    assert back is not None
    assert back.decided_at.tzinfo is UTC
    assert back.first_reason == "dnc.global"
    assert back.latency_ms == 2.5
    assert back.attempt.caller == "02161234567"  # the number as dialled is kept too


async def test_next_allowed_at_round_trips_with_the_callees_offset(
    store: Store, make_decision: MakeDecision
) -> None:
    shanghai = timezone(timedelta(hours=8))
    retry = datetime(2024, 6, 4, 9, 0, tzinfo=shanghai)
    decision = make_decision(
        verdict=Verdict.DENY,
        reasons=(Reason("time.quiet_hours", "22:10 local"), Reason("frequency.exceeded", "1")),
        next_allowed_at=retry,
    )
    plain = make_decision(verdict=Verdict.DENY)
    await add(store, decision, plain)
    async with store.transaction(readonly=True) as tx:
        back = await tx.decisions.get(decision.decision_id)
        back_plain = await tx.decisions.get(plain.decision_id)
    assert back is not None and back_plain is not None
    assert back.next_allowed_at == retry
    assert back.next_allowed_at.isoformat() == "2024-06-04T09:00:00+08:00"
    assert back_plain.next_allowed_at is None


async def test_list_is_newest_first_and_filters(store: Store, make_decision: MakeDecision) -> None:
    other = "+8613900139000"
    await add(
        store,
        *(make_decision(decided_at=T0 + timedelta(minutes=n)) for n in range(5)),
        make_decision(callee=other, decided_at=T0 + timedelta(minutes=10)),
    )
    async with store.transaction(readonly=True) as tx:
        everything = await tx.decisions.list()
        mine = await tx.decisions.list(callee=CALLEE, since=T0 + timedelta(minutes=2), limit=2)
    assert [d.callee for d in everything][:1] == [other]
    assert len(everything) == 6
    assert [d.decided_at for d in mine] == [T0 + timedelta(minutes=4), T0 + timedelta(minutes=3)]


async def test_recent_allowed_counts_only_allowed_calls_of_the_tenant(
    store: Store, make_decision: MakeDecision
) -> None:
    await add(
        store,
        make_decision(decided_at=T0 - timedelta(days=8)),
        make_decision(decided_at=T0 - timedelta(days=1)),
        make_decision(decided_at=T0 - timedelta(hours=1)),
        make_decision(decided_at=T0 - timedelta(minutes=5), verdict=Verdict.DENY),
        make_decision(decided_at=T0 - timedelta(minutes=1), tenant="globex"),
        make_decision(decided_at=T0 - timedelta(minutes=1), callee="+8613900139000"),
    )
    async with store.transaction(readonly=True) as tx:
        recent = await tx.decisions.recent_allowed(CALLEE, "acme", T0 - timedelta(days=7))
    assert recent == (T0 - timedelta(hours=1), T0 - timedelta(days=1))
    assert all(when.tzinfo is UTC for when in recent)


async def test_a_frequency_reset_hides_earlier_attempts_but_keeps_them(
    store: Store, make_decision: MakeDecision
) -> None:
    await add(store, *(make_decision(decided_at=T0 + timedelta(hours=n)) for n in range(3)))
    since = T0 - timedelta(days=7)
    async with store.transaction() as tx:
        reset = await tx.decisions.reset_frequency(
            CALLEE, "acme", T0 + timedelta(hours=1), "alice", "callee asked for a callback"
        )
        assert reset.by == "alice"
        assert await tx.decisions.recent_allowed(CALLEE, "acme", since) == (
            T0 + timedelta(hours=2),
        )
        assert len(await tx.decisions.recent_allowed(CALLEE, "globex", since)) == 0
    await add(store, make_decision(decided_at=T0 + timedelta(hours=3)))
    async with store.transaction() as tx:
        await tx.decisions.reset_frequency(CALLEE, "acme", T0 + timedelta(hours=4), "bob", "again")
        assert await tx.decisions.recent_allowed(CALLEE, "acme", since) == ()
        assert len(await tx.decisions.list(callee=CALLEE)) == 4  # the evidence stays


async def test_allowed_of_pairs_reads_every_pair_in_one_statement(
    store: Store, make_decision: MakeDecision
) -> None:
    """The write transaction's re-count of a batch: what ``recent_allowed`` reads for each
    (tenant, callee), each from its own instant, other tenants' and reset calls left out."""
    other = "+8613900139000"
    await add(
        store,
        *(make_decision(decided_at=T0 - timedelta(hours=n)) for n in (1, 5, 30)),
        make_decision(decided_at=T0 - timedelta(hours=2), verdict=Verdict.DENY),
        make_decision(decided_at=T0 - timedelta(hours=2), tenant="globex"),
        *(make_decision(decided_at=T0 - timedelta(hours=n), callee=other) for n in (1, 5)),
    )
    async with store.transaction() as tx:
        await tx.decisions.reset_frequency(other, "acme", T0 - timedelta(hours=3), "t", "asked")
        since = {
            ("acme", CALLEE): T0 - timedelta(hours=10),
            ("acme", other): T0 - timedelta(days=1),
            ("globex", "+8613700137000"): T0 - timedelta(days=1),
        }
        found = await tx.decisions.allowed_of_pairs(since)
        assert await tx.decisions.allowed_of_pairs({}) == {}
    assert {key: sorted(times) for key, times in found.items()} == {
        ("acme", CALLEE): [T0 - timedelta(hours=5), T0 - timedelta(hours=1)],
        ("acme", other): [T0 - timedelta(hours=1)],
        ("globex", "+8613700137000"): [],
    }


async def test_the_batch_locks_are_held_until_commit(store: Store) -> None:
    """One statement takes all of a batch's advisory locks (PostgreSQL; on SQLite the write
    transaction's lock does it); another writer wanting any of them waits for the commit."""
    first_locked, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with store.transaction() as tx:
            await tx.decisions.lock([-7, 3, 11])
            first_locked.set()
            await release.wait()

    async def second() -> None:
        async with store.transaction() as tx:
            await tx.decisions.lock([11])

    holder = asyncio.create_task(first())
    await first_locked.wait()
    waiter = asyncio.create_task(second())
    done, _ = await asyncio.wait({waiter}, timeout=0.5)
    assert not done  # lock 11, the last of the three, is held
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), timeout=10)


async def test_decisions_refuse_non_e164_numbers(store: Store, make_decision: MakeDecision) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.decisions.add_many([make_decision(callee="13800138000")])
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.decisions.recent_allowed("13800138000", "acme", T0)


async def test_unparseable_numbers_are_stored_raw(
    store: Store, make_decision: MakeDecision
) -> None:
    decision = make_decision(caller=None, callee=None, verdict=Verdict.DENY)
    await add(store, decision)
    async with store.transaction(readonly=True) as tx:
        assert await tx.decisions.get(decision.decision_id) == decision

"""The durable decision log: group commit, and failures reaching every waiter of a batch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from dialguard.policy.model import Decision
from dialguard.storage import DecisionLog, StorageError, Store

MakeDecision = Callable[..., Decision]


async def test_concurrent_appends_share_commits(store: Store, make_decision: MakeDecision) -> None:
    log = DecisionLog(store)
    log.start()
    decisions = [make_decision() for _ in range(200)]
    try:
        await asyncio.gather(*(log.append(d) for d in decisions))
    finally:
        await log.stop()
    assert 1 <= log.commits < 20
    async with store.transaction(readonly=True) as tx:
        stored = await tx.decisions.list(limit=1000)
    assert {d.decision_id for d in stored} == {d.decision_id for d in decisions}


async def test_append_returns_after_the_row_is_committed(
    store: Store, make_decision: MakeDecision
) -> None:
    log = DecisionLog(store)
    log.start()
    try:
        decision = make_decision()
        await log.append(decision)
        # A separate transaction (another pooled connection) already sees it.
        async with store.transaction(readonly=True) as tx:
            assert await tx.decisions.get(decision.decision_id) == decision
    finally:
        await log.stop()


async def test_a_failed_batch_fails_all_its_waiters_and_the_log_goes_on(
    store: Store, make_decision: MakeDecision
) -> None:
    existing = make_decision()
    async with store.transaction() as tx:
        await tx.decisions.add_many([existing])
    log = DecisionLog(store)
    log.start()
    try:
        batch = [make_decision() for _ in range(5)] + [existing]  # a duplicate decision id
        results = await asyncio.gather(*(log.append(d) for d in batch), return_exceptions=True)
        assert all(isinstance(result, StorageError) for result in results)
        assert log.commits == 0
        later = make_decision()
        await log.append(later)
    finally:
        await log.stop()
    async with store.transaction(readonly=True) as tx:
        assert {d.decision_id for d in await tx.decisions.list()} == {
            existing.decision_id,
            later.decision_id,
        }


async def test_stop_writes_what_is_queued_then_refuses(
    store: Store, make_decision: MakeDecision
) -> None:
    log = DecisionLog(store)
    log.start()
    pending = [asyncio.create_task(log.append(make_decision())) for _ in range(10)]
    await asyncio.sleep(0)  # let the appends queue up
    await log.stop()
    await asyncio.gather(*pending)
    with pytest.raises(RuntimeError, match="not running"):
        await log.append(make_decision())
    async with store.transaction(readonly=True) as tx:
        assert len(await tx.decisions.list()) == 10


async def test_append_refuses_non_e164_before_queueing(
    store: Store, make_decision: MakeDecision
) -> None:
    log = DecisionLog(store)
    log.start()
    try:
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await log.append(make_decision(caller="02161234567"))
    finally:
        await log.stop()
    assert log.commits == 0

"""Durable decision log with group commit.

Every decision must be on disk before the gate answers the PBX, and one fsync per call does not
scale, so concurrent appends share a transaction: one writer task takes everything queued (up to
``max_batch``), inserts it in one statement, commits, and only then resolves the waiters of that
batch. While it commits, new appends queue up for the next batch, so the batch size grows with
the load by itself. A failed batch hands its exception to every one of its waiters.

The same transaction appends one audit entry per decision (:func:`audit_entry`), so a decision
is never committed without its place in the tamper-evident log, nor the other way round; the
entry carries the digest of the row as inserted (:mod:`dialguard.storage.row_digests`).

The same transaction settles the batch (:mod:`.settle`): under the write lock (SQLite) or a
per-callee advisory lock (PostgreSQL) each ALLOW is checked once more against its pack's frequency
windows, counting what other processes and nodes committed meanwhile and the earlier entries of
the batch, and one that would exceed a window is recorded — and answered — as a denial. Allowed
decisions queued but not yet committed are :meth:`DecisionLog.in_flight`, so the gate's own
optimistic decision already counts them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from ..numbers import mask, mask_text
from ..policy.model import Decision
from .audit import NewEntry
from .decision_writer import SqliteDecisionWriter, decision_writer
from .decisions import check_decision
from .row_digests import evidence
from .settle import NO_CLAIM, Claim, Settled, counted_key, lock_ids, settle_batch, spans
from .store import Store, Transaction

_Pending = tuple[Decision, Claim, "asyncio.Future[Decision]"]
ACTOR = "gate"


def audit_entry(row: Mapping[str, Any], region: str = "CN") -> NewEntry:
    """The audit entry of a decision, built from the ``decisions`` row actually inserted
    (:func:`~dialguard.storage.decisions.decision_row`, after anything that changed it in the
    transaction), whose evidence digest it carries. Numbers are masked (free text too: reason
    messages, the consent's evidence reference, what was dialled when it did not parse): the hash
    chain cannot be edited later, so it must never hold what an erasure request would have to
    remove. The decision row, found by the subject (the decision id), holds them in full.
    ``region`` reads national numbers typed in free text. The evidence item goes in after the
    masking: a digest is hex, and a run of its digits must not be taken for a phone number."""
    decided_at: datetime = row["decided_at"]
    return NewEntry(
        actor=ACTOR,
        action=f"decision.{row['verdict']}",
        subject=row["decision_id"],
        detail={
            "caller": _masked_number(row["caller_e164"], row["caller_raw"], region),
            "callee": _masked_number(row["callee_e164"], row["callee_raw"], region),
            "tenant": row["tenant"],
            "purpose": row["purpose"],
            "direction": row["direction"],
            "at": decided_at.isoformat(),
            "reasons": [
                {"code": r["code"], "message": mask_text(r["message"], region)}
                for r in row["reasons"]
            ],
            "consent_ref": _masked_text(row["consent_ref"], region),
            "policy_version": row["policy_version"],
            "evidence": [evidence("decisions", row)],
        },
        at=decided_at,
    )


def _masked_number(e164: str | None, raw: str, region: str) -> str:
    return mask(e164) if e164 is not None else mask_text(raw, region)


def _masked_text(text: str | None, region: str) -> str | None:
    return None if text is None else mask_text(text, region)


class DecisionLog:
    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 500,
        region: str = "CN",
        on_commit: Callable[[int, float, bool], None] | None = None,
    ) -> None:
        """``region``: where national numbers typed in free text are read (audit masking).
        ``on_commit(size, seconds, ok)`` is told of every group commit (metrics)."""
        self._store = store
        self._max_batch = max_batch
        self._entry = partial(audit_entry, region=region)
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._commits = 0
        self._on_commit = on_commit
        self._direct: SqliteDecisionWriter | None = None
        """Opened by :meth:`start`, closed by :meth:`stop`."""
        self._in_flight: dict[tuple[str, str], list[datetime]] = {}

    def in_flight(self, tenant: str, callee: str) -> tuple[datetime, ...]:
        """When ``tenant`` was allowed to call ``callee`` by decisions appended but not yet
        committed (or just committed, until their batch's waiters are woken)."""
        return tuple(self._in_flight.get((tenant, callee), ()))

    @property
    def commits(self) -> int:
        """Transactions committed so far (for metrics: appends per commit is the batching)."""
        return self._commits

    def start(self) -> None:
        if self._worker is not None:
            raise RuntimeError("DecisionLog already started")
        self._stopping = False
        self._direct = decision_writer(self._store)
        self._worker = asyncio.create_task(self._run(), name="dialguard-decision-log")

    async def stop(self) -> None:
        """Refuse new appends, write everything already queued, then end the writer task."""
        if self._worker is None:
            return
        self._stopping = True
        self._queue.put_nowait(None)
        try:
            await self._worker
        finally:
            self._worker = None
            if self._direct is not None:
                self._direct.close()
                self._direct = None

    async def append(self, decision: Decision, claim: Claim = NO_CLAIM) -> Decision:
        """Return the decision as committed once it is; raise what the commit raised if it
        failed. That is ``decision`` settled against ``claim`` (:mod:`.settle`): a denial if
        allowing it would exceed one of the claim's windows, or the decision recorded earlier
        under the claim's idempotency key.

        A caller that is cancelled while waiting does not take its decision back: it is written
        with its batch all the same, because it is evidence of what the gate decided.
        """
        if self._worker is None or self._stopping:
            raise RuntimeError("DecisionLog is not running")
        check_decision(decision)
        done: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        key = counted_key(decision, claim)
        if key is not None:
            self._in_flight.setdefault(key, []).append(decision.decided_at)
        self._queue.put_nowait((decision, claim, done))
        return await done

    async def _run(self) -> None:
        while True:
            items = [await self._queue.get()]
            while len(items) < self._max_batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            batch = [item for item in items if item is not None]
            if batch:
                await self._write(batch)
            if len(batch) < len(items):  # the stop sentinel, always the last item queued
                return

    async def _write(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        items = [(decision, claim) for decision, claim, _ in batch]
        try:
            if self._direct is not None:  # SQLite: the whole transaction in one thread hop
                settled = await self._direct.write(items, self._entry)
            else:
                async with self._store.transaction() as tx:
                    settled = await self._settle_and_insert(tx, items)
        except asyncio.CancelledError:
            self._landed(items)
            for _, _, done in batch:
                done.cancel()
            raise
        except Exception as exc:  # every waiter of the batch gets it; the writer carries on
            self._landed(items)
            self._told(len(batch), started, ok=False)
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        self._landed(items)
        self._commits += 1
        self._told(len(batch), started, ok=True)
        for (_, _, done), result in zip(batch, settled, strict=True):
            if not done.done():
                done.set_result(result.decision)

    async def _settle_and_insert(
        self, tx: Transaction, items: list[tuple[Decision, Claim]]
    ) -> list[Settled]:
        """:meth:`SqliteDecisionWriter.write` through the repositories (PostgreSQL): the
        batch's advisory locks first, then the same reads and the same settling."""
        await tx.decisions.lock(lock_ids(items))
        stored = await tx.decisions.allowed_of_pairs(spans(items))
        earlier: dict[tuple[str, str], Decision] = {}
        for decision, claim in items:
            if claim.idempotency_key is not None:
                key = (decision.attempt.tenant, claim.idempotency_key)
                found = await tx.decisions.by_idempotency_key(*key)
                if found is not None:
                    earlier[key] = found
        settled = settle_batch(items, stored, earlier)
        new = [
            (done.decision, claim)
            for done, (_, claim) in zip(settled, items, strict=True)
            if done.new
        ]
        if new:
            rows = await tx.decisions.add_many(
                [d for d, _ in new], [c.idempotency_key for _, c in new]
            )
            await tx.audit.append_many([self._entry(row) for row in rows])
        return settled

    def _landed(self, items: list[tuple[Decision, Claim]]) -> None:
        """The batch is committed (or failed): its allowed decisions are no longer in flight."""
        for decision, claim in items:
            key = counted_key(decision, claim)
            if key is None:
                continue
            times = self._in_flight.get(key)
            if times is not None:
                times.remove(decision.decided_at)
                if not times:
                    del self._in_flight[key]

    def _told(self, size: int, started: float, *, ok: bool) -> None:
        if self._on_commit is not None:
            self._on_commit(size, time.perf_counter() - started, ok)

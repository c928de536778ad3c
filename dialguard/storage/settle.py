"""Settling a batch of decisions inside the transaction that makes it durable.

The gate decides optimistically: the facts it read (plus the allowed decisions of its own process
still on their way to disk) may miss an allowed call another process or node is committing at the
same moment. So the write transaction re-checks, where nothing can interleave any more — on
SQLite under the write lock (``BEGIN IMMEDIATE``), on PostgreSQL under a transaction-level
advisory lock per callee and tenant (:func:`lock_id`) — and an ALLOW that would now exceed one of
the pack's frequency windows becomes DENY ``frequency.exceeded`` before ``COMMIT``. The row
inserted, and the audit entry built from it, are the settled decision; so is the verdict the
transport sends.

Everything here is pure: the backends read the stored allowed times and the earlier decisions of
the batch's idempotency keys under their lock, and :func:`settle_batch` does the rest, earlier
entries of the same batch counting for later ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..policy.model import Decision, Reason, Verdict
from ..policy.pack import FrequencyWindow

CalleeKey = tuple[str, str]
"""(tenant, callee E.164): whose allowed calls a frequency window counts."""
IdempotencyKey = tuple[str, str]
"""(tenant, idempotency key): one recorded decision per key and tenant."""


@dataclass(frozen=True)
class Claim:
    """What the write transaction must hold a decision to: the frequency windows of the pack it
    was decided under (empty: none apply, e.g. emergency and inbound calls), and the caller's
    idempotency key (``POST /v1/decisions``), under which only the first decision is recorded."""

    windows: tuple[FrequencyWindow, ...] = ()
    idempotency_key: str | None = None


NO_CLAIM = Claim()


def unclaimed(decisions: Iterable[Decision]) -> list[tuple[Decision, Claim]]:
    """``decisions`` to be recorded as they are (nothing to settle)."""
    return [(decision, NO_CLAIM) for decision in decisions]


@dataclass(frozen=True)
class Settled:
    decision: Decision
    """The decision as recorded (possibly turned into a denial), or the earlier decision recorded
    under the same idempotency key."""
    new: bool
    """False: ``decision`` is that earlier decision; nothing was inserted for this one."""


def counted_key(decision: Decision, claim: Claim) -> CalleeKey | None:
    """The (tenant, callee) whose windows an ALLOW must be settled against; None: nothing to
    settle (a denial, no windows, a callee that did not normalise)."""
    if not decision.allowed or not claim.windows or decision.callee is None:
        return None
    return decision.attempt.tenant, decision.callee


def idempotency_of(decision: Decision, claim: Claim) -> IdempotencyKey | None:
    key = claim.idempotency_key
    return None if key is None else (decision.attempt.tenant, key)


def spans(items: Iterable[tuple[Decision, Claim]]) -> dict[CalleeKey, datetime]:
    """For every (tenant, callee) to settle: from when stored allowed calls must be read."""
    since: dict[CalleeKey, datetime] = {}
    for decision, claim in items:
        key = counted_key(decision, claim)
        if key is not None:
            start = decision.decided_at - max(w.window for w in claim.windows)
            since[key] = min(start, since.get(key, start))
    return since


def stored_allowed(
    rows: Iterable[tuple[str, str, datetime]], since: Mapping[CalleeKey, datetime]
) -> dict[CalleeKey, list[datetime]]:
    """The allowed times of each (tenant, callee) of ``since`` (:func:`spans`) among ``rows``
    (tenant, callee, decided at): what one statement read for the whole batch, from the earliest
    ``since`` of them all, sorted out per callee and cut at its own ``since``."""
    stored: dict[CalleeKey, list[datetime]] = {key: [] for key in since}
    for tenant, callee, at in rows:
        key = (tenant, callee)
        start = since.get(key)
        if start is not None and at >= start:
            stored[key].append(at)
    return stored


def lock_id(*parts: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock``, the same in every process."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_ids(items: Sequence[tuple[Decision, Claim]]) -> list[int]:
    """The advisory locks a batch takes, sorted so that two batches never deadlock."""
    ids = {lock_id("callee", *key) for key in spans(items)}
    ids |= {lock_id("idempotency", *key) for d, c in items if (key := idempotency_of(d, c))}
    return sorted(ids)


def excess(
    windows: Iterable[FrequencyWindow], at: datetime, allowed: Iterable[datetime]
) -> tuple[FrequencyWindow, int, datetime] | None:
    """The first window that one more allowed call at ``at`` would overfill, with its count and
    when enough of those calls have left it for one more to fit.

    Every stored allowed call within a window's length of ``at`` counts, later ones included: a
    call committed by a node whose clock runs slightly ahead is no less a call."""
    times = list(allowed)
    for window in windows:
        inside = sorted(t for t in times if at - window.window < t < at + window.window)
        count = len(inside)
        if count >= window.max_attempts:
            leaves = inside[count - window.max_attempts] + window.window
            return window, count, max(leaves, at)
    return None


def settle(
    decision: Decision, windows: Sequence[FrequencyWindow], allowed: Iterable[datetime]
) -> Decision:
    """``decision``, or its denial ``frequency.exceeded`` when allowing it would exceed one of
    ``windows`` given the ``allowed`` calls to the same callee by the same tenant."""
    if not decision.allowed:
        return decision
    found = excess(windows, decision.decided_at, allowed)
    if found is None:
        return decision
    window, count, retry = found
    minutes = int(window.window / timedelta(minutes=1))
    reason = Reason(
        "frequency.exceeded",
        f"{count} attempts in the last {minutes} min (at most {window.max_attempts}), "
        "counting calls decided at the same time",
    )
    retry = retry.astimezone(decision.decided_at.tzinfo)
    return replace(
        decision,
        verdict=Verdict.DENY,
        reasons=(reason,),
        record=False,
        next_allowed_at=retry,
    )


def settle_batch(
    items: Sequence[tuple[Decision, Claim]],
    stored: Mapping[CalleeKey, Sequence[datetime]],
    earlier: Mapping[IdempotencyKey, Decision],
) -> list[Settled]:
    """Settle ``items`` in order. ``stored``: the committed allowed calls of each (tenant,
    callee) of :func:`spans`, read under the lock; ``earlier``: decisions already recorded
    under the batch's idempotency keys. An entry of the batch counts for the ones after it."""
    allowed = {key: list(times) for key, times in stored.items()}
    firsts = dict(earlier)
    out: list[Settled] = []
    for decision, claim in items:
        idempotency = idempotency_of(decision, claim)
        if idempotency is not None and idempotency in firsts:
            out.append(Settled(firsts[idempotency], new=False))
            continue
        key = counted_key(decision, claim)
        if key is not None:
            decision = settle(decision, claim.windows, allowed.get(key, ()))
            if decision.allowed:
                allowed.setdefault(key, []).append(decision.decided_at)
        if idempotency is not None:
            firsts[idempotency] = decision
        out.append(Settled(decision, new=True))
    return out

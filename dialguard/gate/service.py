"""The gate service: look the facts up, let the pure policy decide, make the decision durable.

Every transport (FastAGI, ESL, the admin API, ``dialguard check``) calls :meth:`GateService.decide`
or :meth:`GateService.dry_run`; none of them decides anything itself. The service reads facts
through the :class:`~dialguard.storage.facts.FactReader` it is given (``fact_reader(store)``;
on SQLite, a connection of its own), which whoever opened it closes.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..clock import Clock
from ..numbers import time_zones, try_normalize
from ..policy.book import PolicyBook
from ..policy.emergency import is_emergency
from ..policy.engine import evaluate
from ..policy.model import CallAttempt, Decision, Direction, Facts, Reason, Verdict
from ..policy.pack import RulePack
from ..storage.settle import Claim

if TYPE_CHECKING:
    # Types only: `dialguard check` (a dry run) loads neither the decision log nor the indexes.
    from ..dnc.national import NationalDnc
    from ..metrics import GateMetrics
    from ..storage.decision_log import DecisionLog
    from ..storage.facts import FactReader

_FAILURE_MESSAGES = {
    "gate.timeout": "no decision within the gate's budget: denied",
    "gate.error": "the decision failed: denied",
}


class GateService:
    def __init__(
        self,
        facts: FactReader,
        book: PolicyBook,
        clock: Clock,
        default_region: str,
        decision_log: DecisionLog | None = None,
        tenant_region: Callable[[str], str] | None = None,
        national_dnc: NationalDnc | None = None,
        decision_region: str | None = None,
        *,
        metrics: GateMetrics | None = None,
    ) -> None:
        self.book = book
        self.pack: RulePack = book.default_pack
        """The default pack: emergency numbers before any lookup, and the gate's own denials.
        Each call is decided under the pack :meth:`pack_for` selects."""
        self.clock = clock
        self.default_region = default_region
        self.decision_log = decision_log
        self.tenant_region = tenant_region
        """Where a tenant's recordings are stored, for packs that require a data region."""
        self.national_dnc = national_dnc
        self.decision_region = decision_region
        """Where decisions are stored (``database.region``); None: not declared."""
        self.numbering = book.numbering
        self.metrics = metrics
        """Counts each stored decision and each of the gate's own denials (``GET /metrics``)."""
        self._facts = facts
        self.tenants = facts.tenants
        """Which tenants exist, as the facts are read (a dry run checks the names it is given)."""

    def caller_of(self, attempt: CallAttempt) -> str | None:
        """The caller's canonical form: E.164, or an access code of a pack's class (95555 →
        +8695555) however the PBX presented it."""
        return self.numbering.try_canonical(attempt.caller, self.default_region)

    def callee_of(self, attempt: CallAttempt) -> str | None:
        """The callee's E.164 form; inbound, the dialled number may be one of our access codes."""
        if attempt.direction is Direction.INBOUND:
            return self.numbering.try_canonical(attempt.callee, self.default_region)
        return try_normalize(attempt.callee, self.default_region)

    async def facts_for(self, attempt: CallAttempt, now: datetime) -> Facts:
        caller = self.caller_of(attempt)
        callee = self.callee_of(attempt)
        if is_emergency(attempt.callee, self.pack):
            return Facts(caller=caller, callee=callee)
        facts = await self._facts.lookup(attempt, caller, callee, now, self.book.longest_window)
        zones = time_zones(callee) if callee else ()
        region = self.tenant_region(attempt.tenant) if self.tenant_region else None
        national = self.national_dnc.entries(callee, now) if self.national_dnc and callee else ()
        return replace(
            facts,
            dnc=facts.dnc + national,
            callee_time_zones=zones,
            tenant_data_region=region,
            decision_data_region=self.decision_region,
        )

    def pack_for(self, facts: Facts, now: datetime) -> RulePack:
        """The callee's jurisdiction (and state), the tenant's industry, versions in force."""
        return self.book.for_callee(facts.tenant_industry, facts.callee, now.date())

    async def dry_run(self, attempt: CallAttempt, at: datetime | None = None) -> Decision:
        """Decide without recording anything (``dialguard check``, ``POST /v1/check``)."""
        started = time.perf_counter()
        now = at or self.clock.now()
        facts = await self.facts_for(attempt, now)
        decision = evaluate(attempt, facts, now, self.pack_for(facts, now), str(uuid.uuid4()))
        return replace(decision, latency_ms=(time.perf_counter() - started) * 1000)

    def failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> Decision:
        """The denial a transport makes itself (``gate.timeout``, ``gate.error``), as stored."""
        now = self.clock.now()
        retention_class, retain_until = self.pack.retention_of(now)
        return Decision(
            decision_id=decision_id,
            verdict=Verdict.DENY,
            reasons=(Reason(reason, _FAILURE_MESSAGES.get(reason, "the gate failed closed")),),
            policy_version=self.pack.policy_version,
            decided_at=now,
            attempt=attempt,
            caller=self.caller_of(attempt),
            callee=self.callee_of(attempt),
            retention_class=retention_class,
            retain_until=retain_until,
        )

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        """Store a denial the transport made itself (:meth:`failure`)."""
        if self.decision_log is None:
            raise RuntimeError("GateService.record_failure needs a running DecisionLog")
        if self.metrics is not None:
            self.metrics.failed(reason)
        decision = await self.decision_log.append(self.failure(attempt, decision_id, reason))
        if self.metrics is not None:
            self.metrics.decided(decision)

    async def decide(self, attempt: CallAttempt, idempotency_key: str | None = None) -> Decision:
        """Decide a live call and record it; returns the decision as recorded, only once it is
        durably stored.

        The decision counts the tenant's allowed calls to the callee that this process has
        decided but not yet stored; the transaction that stores it settles it against what
        every process has stored (:mod:`dialguard.storage.settle`), so the verdict returned may
        be a ``frequency.exceeded`` denial the optimistic decision did not foresee. With
        ``idempotency_key`` (``POST /v1/decisions``), a decision already recorded under that key
        for the tenant is returned instead, and nothing new is recorded."""
        log = self.decision_log
        if log is None:
            raise RuntimeError("GateService.decide needs a running DecisionLog")
        started = time.perf_counter()
        now = self.clock.now()
        facts = await self.facts_for(attempt, now)
        pack = self.pack_for(facts, now)
        if facts.callee is not None:
            pending = log.in_flight(attempt.tenant, facts.callee)
            if pending:
                facts = replace(facts, recent_attempts=with_pending(facts.recent_attempts, pending))
        decision = evaluate(attempt, facts, now, pack, str(uuid.uuid4()))
        decision = replace(decision, latency_ms=(time.perf_counter() - started) * 1000)
        counted = attempt.direction is Direction.OUTBOUND and not is_emergency(attempt.callee, pack)
        claim = Claim(pack.frequency if counted else (), idempotency_key)
        decision = await log.append(decision, claim)
        if self.metrics is not None:
            self.metrics.decided(decision)
        return decision


def with_pending(
    stored: tuple[datetime, ...], pending: tuple[datetime, ...]
) -> tuple[datetime, ...]:
    """``stored`` allowed times plus those of decisions in flight, newest first. A decision
    just committed may be in both (its waiters not yet woken): one stored time absorbs one
    pending time equal to it."""
    unmatched = Counter(pending)
    unmatched.subtract(Counter(stored))
    extra = [at for at, n in unmatched.items() for _ in range(max(n, 0))]
    return tuple(sorted((*stored, *extra), reverse=True))

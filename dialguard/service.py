"""The gate service: look the facts up, let the pure policy decide, make the decision durable.

Every transport (FastAGI, ESL, the admin API, ``dialguard check``) calls :meth:`GateService.decide`
or :meth:`GateService.dry_run`; none of them decides anything itself.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime

from .clock import Clock
from .numbers import time_zones, try_normalize
from .policy.engine import evaluate, is_emergency
from .policy.model import CallAttempt, Decision, Facts, Reason, Verdict
from .policy.pack import RulePack
from .storage.decision_log import DecisionLog
from .storage.facts import lookup_facts
from .storage.store import Store

_FAILURE_MESSAGES = {
    "gate.timeout": "no decision within the gate's budget: denied",
    "gate.error": "the decision failed: denied",
}


class GateService:
    def __init__(
        self,
        store: Store,
        pack: RulePack,
        clock: Clock,
        default_region: str,
        decision_log: DecisionLog | None = None,
    ) -> None:
        self.store = store
        self.pack = pack
        self.clock = clock
        self.default_region = default_region
        self.decision_log = decision_log

    async def facts_for(self, attempt: CallAttempt, now: datetime) -> Facts:
        caller = try_normalize(attempt.caller, self.default_region)
        callee = try_normalize(attempt.callee, self.default_region)
        if is_emergency(attempt.callee, self.pack):
            return Facts(caller=caller, callee=callee)
        async with self.store.transaction(readonly=True) as tx:
            facts = await lookup_facts(tx, attempt, caller, callee, now, self.pack.longest_window)
        zones = time_zones(callee) if callee else ()
        return replace(facts, callee_time_zones=zones)

    async def dry_run(self, attempt: CallAttempt, at: datetime | None = None) -> Decision:
        """Decide without recording anything (``dialguard check``, ``POST /v1/check``)."""
        started = time.perf_counter()
        now = at or self.clock.now()
        facts = await self.facts_for(attempt, now)
        decision = evaluate(attempt, facts, now, self.pack, str(uuid.uuid4()))
        return replace(decision, latency_ms=(time.perf_counter() - started) * 1000)

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        """Store a denial the transport made itself (``gate.timeout``, ``gate.error``)."""
        if self.decision_log is None:
            raise RuntimeError("GateService.record_failure needs a running DecisionLog")
        decision = Decision(
            decision_id=decision_id,
            verdict=Verdict.DENY,
            reasons=(Reason(reason, _FAILURE_MESSAGES.get(reason, "the gate failed closed")),),
            policy_version=self.pack.policy_version,
            decided_at=self.clock.now(),
            attempt=attempt,
            caller=try_normalize(attempt.caller, self.default_region),
            callee=try_normalize(attempt.callee, self.default_region),
        )
        await self.decision_log.append(decision)

    async def decide(self, attempt: CallAttempt) -> Decision:
        """Decide a live call; returns only once the decision is durably stored."""
        if self.decision_log is None:
            raise RuntimeError("GateService.decide needs a running DecisionLog")
        decision = await self.dry_run(attempt)
        await self.decision_log.append(decision)
        return decision

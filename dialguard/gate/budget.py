"""The decision budget: a decision within ``budget_ms`` or a denial, never a stuck call.

Failure mode, decided once for every route: when the decision maker is slow (``gate.timeout``)
or raises (``gate.error``) the call is denied. An outage is logged once — the first failure as an
error with the exception summary, later ones only counted, and the first success after it as
"recovered after N failures" — so a database outage does not write a traceback per call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from ..policy.model import CallAttempt, Decision
from .verdict import DEFAULT_NOTICE, GATE_ERROR, GATE_TIMEOUT, GateVerdict

log = logging.getLogger("dialguard.agi")


class DecisionMaker(Protocol):
    """Looks up the facts, evaluates the policy and stores the decision durably before
    returning it (:class:`~dialguard.gate.service.GateService` in the application; any object with
    this method fits, e.g. a test's stand-in)."""

    async def decide(self, attempt: CallAttempt) -> Decision: ...

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        """Store the gate's own denial (timeout, error) as the call's last word."""


class OutageLog:
    """Logs the first failure of an outage and the recovery; counts the rest silently."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self.failures = 0

    def failure(self, reason: str, summary: str) -> None:
        self.failures += 1
        if self.failures == 1:
            self._log.error(
                "decisions failing, calls are denied until they recover",
                extra={"fields": {"reason": reason, "error": summary}},
            )

    def success(self) -> None:
        if self.failures:
            self._log.warning(
                "decisions recovered after %d failures",
                self.failures,
                extra={"fields": {"failures": self.failures}},
            )
            self.failures = 0


def _summary(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _consume(task: asyncio.Task[Decision]) -> None:
    if not task.cancelled():
        task.exception()


def _consume_quietly(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("could not store the gate's own denial", exc_info=task.exception())


class DecisionGate:
    def __init__(
        self, maker: DecisionMaker, budget_ms: int, notice_prompt: str = DEFAULT_NOTICE
    ) -> None:
        self._maker = maker
        self._notice = notice_prompt
        self._budget = budget_ms / 1000
        self._budget_ms = budget_ms
        self.outage = OutageLog(log)
        self._abandoned: set[asyncio.Task[Decision]] = set()
        self._failure_records: set[asyncio.Task[None]] = set()

    async def decide(self, attempt: CallAttempt, uniqueid: str) -> GateVerdict:
        task = asyncio.create_task(self._maker.decide(attempt))
        try:
            done, _ = await asyncio.wait({task}, timeout=self._budget)
        finally:
            if not task.done():
                # Cancelled, not awaited: a decide() slow to unwind must not hold the call.
                task.cancel()
                self._abandoned.add(task)
                task.add_done_callback(self._abandoned.discard)
                task.add_done_callback(_consume)
        if not done:
            self.outage.failure(GATE_TIMEOUT, f"no decision within {self._budget_ms} ms")
            return self._failed(attempt, GATE_TIMEOUT)
        try:
            verdict = GateVerdict.from_decision(task.result(), uniqueid, self._notice)
        except (Exception, asyncio.CancelledError) as exc:  # the decide task's, not ours
            self.outage.failure(GATE_ERROR, _summary(exc))
            return self._failed(attempt, GATE_ERROR)
        self.outage.success()
        return verdict

    def _failed(self, attempt: CallAttempt, reason: str) -> GateVerdict:
        """Deny now; store the denial in the background so the verdict never waits for it.

        A decision that was committed just before the deadline is superseded by this record:
        the call's newest row tells what the PBX was told. When storage itself is down the
        record fails too; the outage is already logged once, so that failure is only counted.
        """
        verdict = GateVerdict.deny(reason)
        record = asyncio.create_task(
            self._maker.record_failure(attempt, verdict.decision_id, reason)
        )
        self._failure_records.add(record)
        record.add_done_callback(self._failure_records.discard)
        record.add_done_callback(_consume_quietly)
        return verdict

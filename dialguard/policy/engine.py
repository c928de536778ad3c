"""The one place that decides: (call attempt, facts, now, rule pack) → decision.

The pack is the one :meth:`~.book.PolicyBook.for_callee` selected for this call (jurisdiction,
subdivision, industry overlay, overrides already merged); the engine does not know about layers.

Every rule is evaluated, in a fixed order, and every objection becomes a reason; any reason on
an outbound call denies it. Emergency numbers (:mod:`.emergency`: the pack's list, exactly as
dialled) are allowed before any rule runs. A denial that time alone lifts carries
``next_allowed_at`` (:mod:`.next_allowed`).
"""

from __future__ import annotations

from datetime import datetime

from .context import RuleContext, valid_consent
from .emergency import is_emergency
from .model import CallAttempt, Decision, Direction, Facts, Reason, Verdict
from .next_allowed import next_allowed_at
from .pack import RulePack
from .rules import OUTBOUND_RULES, InboundCallerId, InboundEnabled


def evaluate(
    attempt: CallAttempt, facts: Facts, now: datetime, pack: RulePack, decision_id: str
) -> Decision:
    if now.tzinfo is None:
        raise ValueError("evaluate() needs a timezone-aware 'now'")
    ctx = RuleContext(attempt, facts, now, pack)
    if attempt.direction is Direction.INBOUND:
        return _inbound(ctx, decision_id)
    if is_emergency(attempt.callee, pack):
        reasons: tuple[Reason, ...] = (
            Reason("emergency.bypass", "emergency number: always allowed"),
        )
        return _decision(ctx, decision_id, Verdict.ALLOW, reasons)
    objections = [(rule, rule.evaluate(ctx)) for rule in OUTBOUND_RULES]
    reasons = tuple(reason for _, found in objections for reason in found)
    verdict = Verdict.DENY if reasons else Verdict.ALLOW
    blocking = tuple(rule for rule, found in objections if found)
    retry = next_allowed_at(ctx, OUTBOUND_RULES, blocking) if blocking else None
    consent = valid_consent(ctx)
    return _decision(
        ctx,
        decision_id,
        verdict,
        reasons,
        consent_ref=consent.evidence_ref if consent else None,
        record=verdict is Verdict.ALLOW and pack.record_outbound,
        notice=pack.recording_notice == "required",
        next_allowed=retry,
    )


def _inbound(ctx: RuleContext, decision_id: str) -> Decision:
    flags = InboundCallerId().evaluate(ctx) + InboundEnabled().evaluate(ctx)
    codes = {flag.code for flag in flags}
    refused = (
        ("callerid.spoofed" in codes and ctx.pack.refuse_spoofed_inbound)
        or ("callerid.invalid" in codes and ctx.pack.refuse_invalid_inbound)
        or ("callerid.verification_failed" in codes and ctx.pack.unverified_inbound == "refuse")
        or "callee.inbound_disabled" in codes
    )
    return _decision(ctx, decision_id, Verdict.DENY if refused else Verdict.ALLOW, flags)


def _decision(
    ctx: RuleContext,
    decision_id: str,
    verdict: Verdict,
    reasons: tuple[Reason, ...],
    consent_ref: str | None = None,
    record: bool = False,
    notice: bool = False,
    next_allowed: datetime | None = None,
) -> Decision:
    retention_class, retain_until = ctx.pack.retention_of(ctx.now)
    return Decision(
        decision_id=decision_id,
        verdict=verdict,
        reasons=reasons,
        policy_version=ctx.pack.policy_version,
        decided_at=ctx.now,
        attempt=ctx.attempt,
        caller=ctx.facts.caller,
        callee=ctx.facts.callee,
        consent_ref=consent_ref,
        record=record,
        notice=record and notice,
        retention_class=retention_class,
        retain_until=retain_until,
        next_allowed_at=next_allowed,
    )

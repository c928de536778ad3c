"""JSON shapes shared by the CLI (``--json``) and the admin API, so both print the same thing."""

from __future__ import annotations

import enum
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any

from .policy.model import Decision


def decision_view(decision: Decision) -> dict[str, Any]:
    attempt = decision.attempt
    return {
        "decision_id": decision.decision_id,
        "verdict": decision.verdict.value,
        "reasons": [{"code": r.code, "message": r.message} for r in decision.reasons],
        "policy_version": decision.policy_version,
        "decided_at": decision.decided_at.isoformat(),
        "caller": decision.caller or attempt.caller,
        "callee": decision.callee or attempt.callee,
        "tenant": attempt.tenant,
        "purpose": attempt.purpose,
        "direction": attempt.direction.value,
        "presentation": attempt.presentation.value,
        "campaign": attempt.campaign,
        "call_id": attempt.call_id,
        "consent_ref": decision.consent_ref,
        "record": decision.record,
        "retention_class": decision.retention_class,
        "retain_until": None
        if decision.retain_until is None
        else decision.retain_until.isoformat(),
        "latency_ms": None if decision.latency_ms is None else round(decision.latency_ms, 3),
        "next_allowed_at": None
        if decision.next_allowed_at is None
        else decision.next_allowed_at.isoformat(),
        "notice": decision.notice_status,
        "notice_prompt": decision.notice_prompt,
    }


def jsonable(value: Any, *, utc: bool = False) -> Any:
    """Dataclasses, dates, enums and sets as plain JSON values (for audit details and --json);
    ``utc``: aware instants in UTC (audit details: one spelling of each instant)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name), utc=utc) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v, utc=utc) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, utc=utc) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v, utc=utc) for v in value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime) and utc and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value

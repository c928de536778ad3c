"""JSON Schemas of what the API answers, published under ``components/schemas`` in the OpenAPI
document and checked against live responses by the schemathesis tests.

They describe the shared JSON shapes of :mod:`dialguard.views` (``decision_view`` and
``jsonable`` of the storage records), so the CLI's ``--json`` output has the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..policy.model import NOTICE_STATUSES

Schema = Mapping[str, Any]

STRING: Schema = {"type": "string"}
INSTANT: Schema = {"type": "string", "format": "date-time"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or ``null`` (OpenAPI 3.1: a JSON Schema type list)."""
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def record(properties: Mapping[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
        "properties": dict(properties),
    }


ERROR = record(
    {"error": record({"code": STRING, "message": STRING, "field": STRING}, optional=("field",))}
)

REASON = record({"code": STRING, "message": STRING})

DECISION = record(
    {
        "decision_id": STRING,
        "verdict": {"type": "string", "enum": ["allow", "deny"]},
        "reasons": array(ref("Reason")),
        "policy_version": STRING,
        "decided_at": INSTANT,
        "caller": STRING,
        "callee": STRING,
        "tenant": STRING,
        "purpose": STRING,
        "direction": {"type": "string", "enum": ["outbound", "inbound"]},
        "presentation": {"type": "string", "enum": ["allowed", "restricted"]},
        "campaign": nullable(STRING),
        "call_id": nullable(STRING),
        "consent_ref": nullable(STRING),
        "record": BOOL,
        "retention_class": nullable(STRING),
        "retain_until": nullable(INSTANT),
        "latency_ms": nullable({"type": "number"}),
        "next_allowed_at": {
            **nullable(INSTANT),
            "description": "On a denial that time alone lifts (time.quiet_hours, time.holiday, "
            "frequency.exceeded, a consent valid only from a later instant): the earliest "
            "instant the same call would pass every rule, ISO 8601 with the callee's UTC "
            "offset. Null when allowed, and when any reason is one that waiting does not lift "
            "(callee.dnc, callerid.unregistered, consent.missing without a later consent...).",
        },
        "notice": {
            "type": ["string", "null"],
            "enum": [*NOTICE_STATUSES, None],
            "description": "The recording notice: required (the call is recorded and its pack "
            "requires the callee to hear the notice first; no recording with the PBX's report "
            "has been ingested yet), played, or missing (it did not play, or the PBX did not "
            "report it: the recording is flagged). Null when no notice was required.",
        },
        "notice_prompt": {
            **nullable(STRING),
            "description": "The sound the PBX reported it played (or failed to play); null "
            "until the call's recording is ingested.",
        },
    }
)

DRY_RUN_DECISION = record({**DECISION["properties"], "dry_run": {"type": "boolean", "const": True}})
"""``POST /v1/check``: what would be decided; nothing recorded, nothing counted."""

RECORDED_DECISION = record(
    {**DECISION["properties"], "dry_run": {"type": "boolean", "const": False}}
)
"""``POST /v1/decisions``: the decision as recorded (a retry: the first one)."""

TENANT = record({"id": INT, "name": STRING, "industry": STRING, "created_at": INSTANT})

OUTCOME: Schema = {"type": "string", "enum": ["created", "updated", "unchanged"]}

TENANT_RESULT = record({"name": STRING, "industry": STRING, "outcome": OUTCOME})

REGISTERED_NUMBER = record(
    {
        "number": STRING,
        "tenant": STRING,
        "purposes": array(STRING),
        "inbound_enabled": BOOL,
        "outbound_enabled": BOOL,
        "number_type": {"type": "string", "enum": ["call-centre", "carrier-marketing"]},
        "filing_ref": nullable(STRING),
        "filed_on": nullable({"type": "string", "format": "date"}),
        "active": BOOL,
        "number_class": nullable(STRING),
        "effective_from": nullable(INSTANT),
        "expires_on": nullable({"type": "string", "format": "date"}),
    }
)

NUMBER_RESULT = record({"outcome": OUTCOME, "number": ref("RegisteredNumber")})

NUMBER_ENDED = record({"ended": ref("RegisteredNumber")})

FILING_CHANGE = record(
    {
        "change_id": INT,
        "change": {"type": "string", "enum": ["filed", "changed", "ended"]},
        "terms": ref("RegisteredNumber"),
        "recorded_at": INSTANT,
        "recorded_by": nullable(STRING),
    }
)

OVERDUE_CHANGE = record(
    {
        "change": ref("FilingChange"),
        "changed_on": {"type": "string", "format": "date"},
        "deadline": {"type": "string", "format": "date"},
        "reported_on": nullable({"type": "string", "format": "date"}),
    }
)

DNC_ENTRY = record(
    {
        "number": STRING,
        "scope": {"type": "string", "enum": ["global", "tenant", "campaign"]},
        "tenant": nullable(STRING),
        "campaign": nullable(STRING),
        "source": STRING,
        "reason": nullable(STRING),
        "added_at": INSTANT,
        "expires_at": nullable(INSTANT),
        "added_by": STRING,
    }
)

DNC_RESULT = record({"outcome": OUTCOME, "entry": ref("DncEntry")})

DNC_CHECK = record({"number": STRING, "listed": BOOL, "entries": array(ref("DncEntry"))})

DNC_REMOVAL = record({"number": STRING, "scope": STRING, "removed": BOOL})

DNC_IMPORT = record(
    {
        "inserted": INT,
        "unchanged": INT,
        "bad": array(record({"index": INT, "reason": STRING})),
    }
)

CONSENT = record(
    {
        "consent_id": INT,
        "callee": STRING,
        "tenant": STRING,
        "purpose": STRING,
        "evidence_ref": STRING,
        "channel": STRING,
        "given_at": INSTANT,
        "expires_at": nullable(INSTANT),
        "revoked_at": nullable(INSTANT),
    }
)

CONSENT_REVOCATION = record(
    {"callee": STRING, "tenant": STRING, "purpose": nullable(STRING), "revoked": INT}
)

FREQUENCY_RESET = record(
    {"callee": STRING, "tenant": STRING, "at": INSTANT, "by": STRING, "reason": STRING}
)

AUDIT_ENTRY = record(
    {
        "seq": INT,
        "at": INSTANT,
        "actor": STRING,
        "action": STRING,
        "subject": STRING,
        "detail": {},
        "prev_hash": STRING,
        "hash": STRING,
    }
)

AUDIT_REPORT = record(
    {
        "ok": BOOL,
        "entries": INT,
        "root_hash": STRING,
        "checkpoints_checked": INT,
        "checked_from": INT,
        "rows_checked": INT,
        "problems": array(
            record({"seq": nullable(INT), "message": STRING, "row": nullable(STRING)})
        ),
        "notes": array(STRING),
    }
)

RETENTION = record(
    {
        "class": STRING,
        "legal_basis": STRING,
        "anchor_event": STRING,
        "anchor_at": nullable(INSTANT),
        "min_days": INT,
        "retain_until": nullable(INSTANT),
    }
)

_RECORDING_FIELDS: Mapping[str, Schema] = {
    "id": INT,
    "name": STRING,
    "decision_id": STRING,
    "call_id": nullable(STRING),
    "caller": STRING,
    "callee": STRING,
    "tenant": STRING,
    "started_at": INSTANT,
    "ended_at": INSTANT,
    "duration_ms": nullable(INT),
    "size_bytes": INT,
    "sha256": STRING,
    "key_id": STRING,
    "region": STRING,
    "vault_path": STRING,
    "retention": ref("Retention"),
    "legal_hold": BOOL,
    "hold_reason": nullable(STRING),
    "hold_by": nullable(STRING),
    "hold_at": nullable(INSTANT),
    "ingested_at": INSTANT,
    "deleted_at": nullable(INSTANT),
    "deleted_by": nullable(STRING),
    "deleted_hash": nullable(STRING),
}

RECORDING = record(_RECORDING_FIELDS)

RECORDING_EVENT = record({"at": INSTANT, "action": STRING, "actor": STRING, "reason": STRING})

RECORDING_DETAIL = record({**_RECORDING_FIELDS, "events": array(ref("RecordingEvent"))})

DSR_REQUEST = record(
    {
        "id": INT,
        "kind": {"type": "string", "enum": ["export", "correct", "erase"]},
        "subject_hash": STRING,
        "subject_masked": STRING,
        "received_at": INSTANT,
        "deadline": INSTANT,
        "status": {"type": "string", "enum": ["open", "completed", "restricted"]},
        "completed_at": nullable(INSTANT),
        "handled_by": STRING,
        "outcome": {},
    }
)

DSR_OUTCOME = record({"request": ref("DsrRequest"), "result": {"type": "object"}})

OPTOUT_ACCEPTED = record({"status": {"type": "string", "enum": ["accepted"]}})

_ROLE: Schema = {"type": "string", "enum": ["admin", "operator", "auditor", "dsr"]}

TOKEN = record(
    {
        "id": STRING,
        "name": STRING,
        "role": _ROLE,
        "created_at": INSTANT,
        "created_by": STRING,
        "revoked_at": nullable(INSTANT),
        "revoked_by": nullable(STRING),
        "last_used_at": nullable(INSTANT),
    }
)

NEW_TOKEN = record({"token": ref("Token"), "secret": STRING})

SCRIPT_HIT = record(
    {
        "line": INT,
        "column": INT,
        "end_line": INT,
        "end_column": INT,
        "phrase": STRING,
        "pack": STRING,
        "matched_text": STRING,
        "note": nullable(STRING),
    }
)

SCRIPT = record(
    {
        "id": INT,
        "tenant": STRING,
        "campaign": STRING,
        "status": {"type": "string", "enum": ["approved", "refused"]},
        "sha256": STRING,
        "file_name": STRING,
        "phrase_packs": array(STRING),
        "phrase_version": STRING,
        "hits": array(ref("Hit")),
        "registered_at": INSTANT,
        "registered_by": STRING,
    }
)

COMPONENTS: Mapping[str, Schema] = {
    "Error": ERROR,
    "Reason": REASON,
    "Decision": DECISION,
    "DryRunDecision": DRY_RUN_DECISION,
    "RecordedDecision": RECORDED_DECISION,
    "Tenant": TENANT,
    "TenantResult": TENANT_RESULT,
    "RegisteredNumber": REGISTERED_NUMBER,
    "NumberResult": NUMBER_RESULT,
    "NumberEnded": NUMBER_ENDED,
    "FilingChange": FILING_CHANGE,
    "OverdueChange": OVERDUE_CHANGE,
    "DncEntry": DNC_ENTRY,
    "DncResult": DNC_RESULT,
    "DncCheck": DNC_CHECK,
    "DncRemoval": DNC_REMOVAL,
    "DncImport": DNC_IMPORT,
    "Consent": CONSENT,
    "ConsentRevocation": CONSENT_REVOCATION,
    "FrequencyReset": FREQUENCY_RESET,
    "AuditEntry": AUDIT_ENTRY,
    "AuditReport": AUDIT_REPORT,
    "Retention": RETENTION,
    "Recording": RECORDING,
    "RecordingEvent": RECORDING_EVENT,
    "RecordingDetail": RECORDING_DETAIL,
    "DsrRequest": DSR_REQUEST,
    "DsrOutcome": DSR_OUTCOME,
    "OptOutAccepted": OPTOUT_ACCEPTED,
    "Token": TOKEN,
    "NewToken": NEW_TOKEN,
    "Hit": SCRIPT_HIT,
    "Script": SCRIPT,
}

"""What binds a stored row to the audit chain: the digest of its evidentiary fields.

An audit entry that creates, changes or deletes an evidentiary row carries, in
``detail["evidence"]``, a list of :func:`evidence` items — ``{"table", "key", "digest"}``, the
digest of the row *after* the action, or ``None`` when the action deleted it. Verification
recomputes the digest of every current row and compares it with the newest entry naming that row:
an edited row (digest differs), a deleted one (an entry vouches for it, no row is there) and an
inserted one (a row no entry vouches for) are each named.

The fields are listed per table rather than taken as "every column", so a later migration that
adds a column does not change the digest of rows vouched for before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from ..storage.audit import canonical_json

EVIDENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "decisions": (
        "decision_id",
        "call_id",
        "direction",
        "presentation",
        "caller_raw",
        "caller_e164",
        "callee_raw",
        "callee_e164",
        "tenant",
        "purpose",
        "campaign",
        "decided_at",
        "verdict",
        "reasons",
        "first_reason",
        "consent_ref",
        "policy_version",
        "record",
        "retention_class",
    ),
    "consents": (
        "id",
        "callee",
        "tenant",
        "purpose",
        "evidence_ref",
        "channel",
        "given_at",
        "expires_at",
        "revoked_at",
    ),
    "dnc_entries": (
        "id",
        "number",
        "scope",
        "tenant",
        "campaign",
        "source",
        "reason",
        "added_at",
        "expires_at",
        "added_by",
        "removed_at",
        "removed_by",
        "removal_reason",
    ),
    "registered_numbers": (
        "id",
        "number",
        "tenant",
        "purposes",
        "inbound_enabled",
        "outbound_enabled",
        "number_type",
        "filing_ref",
        "filed_on",
        "active",
    ),
}
"""Per evidentiary table, the columns its digest covers."""

ROW_KEYS: dict[str, str] = {
    "decisions": "decision_id",
    "consents": "id",
    "dnc_entries": "id",
    "registered_numbers": "id",
}
"""Per evidentiary table, the column that names a row in ``evidence`` items."""


class Evidence(TypedDict):
    table: str
    key: str
    digest: str | None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} in an evidentiary row")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def row_digest(table: str, row: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``row``'s evidentiary fields (values as the repositories
    read them: aware datetimes, dates, JSON values)."""
    fields = EVIDENCE_FIELDS[table]
    payload = {name: _plain(row[name]) for name in fields}
    return hashlib.sha256(canonical_json([table, payload]).encode("utf-8")).hexdigest()


def evidence(table: str, row: Mapping[str, Any]) -> Evidence:
    """The ``evidence`` item vouching for ``row`` as it now stands."""
    return {"table": table, "key": str(row[ROW_KEYS[table]]), "digest": row_digest(table, row)}


def gone(table: str, key: object) -> Evidence:
    """The ``evidence`` item of a row the action deleted."""
    return {"table": table, "key": str(key), "digest": None}

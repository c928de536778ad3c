"""What binds a stored row to the audit chain: the digest of its evidentiary fields.

An audit entry that creates, changes or deletes an evidentiary row carries, in
``detail["evidence"]``, a list of :func:`evidence` items — ``{"table", "key", "digest"}``, the
digest of the row *after* the action, or ``None`` when the action deleted it. Verification
recomputes the digest of every current row and compares it with the newest entry naming that row:
an edited row (digest differs), a deleted one (an entry vouches for it, no row is there) and an
inserted one (a row no entry vouches for) are each named.

The digest is taken over the row as stored, after the action: build items from the row actually
written (the decision log builds them from the rows it inserts; for admin operations the
repositories note every row they write and :func:`dialguard.ops.audited.record` reads those back
with ``tx.evidence.changed()``, the way verification reads them).

The fields are listed per table rather than taken as "every column", so a later migration that
adds a column does not change the digest of rows vouched for before it.

**Salted, not keyed.** The chain is append-only, so a digest in it outlives the row. A plain
SHA-256 over a row whose other fields are guessable (the decision id is the entry's subject, the
time and verdict are in the entry) would let anyone holding the chain test candidate phone
numbers against it long after the person was erased: there are only ~10^11 of them. Rows holding
personal numbers therefore carry ``evidence_salt``, 128 random bits made when the row is written
and covered by the digest. Verification needs no secret (the salt is in the row), and erasing the
row — or re-salting what erasure keeps but scrubs — leaves the old digest unlinkable to anyone.
A digest keyed with a server secret (the subject key) was the alternative; it would stay
testable by whoever holds the key after erasure, and an auditor would need the key to verify.
Registered access numbers are the tenant's filing, not personal data: no salt.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from .canonical import canonical_json

SALT = "evidence_salt"
"""The column holding a row's random salt (in the tables whose rows name a person)."""

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
        "retain_until",
        "restricted",
        "restricted_until",
        SALT,
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
        "restricted",
        "restricted_until",
        SALT,
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
        SALT,
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
    "recordings": (
        "id",
        "name",
        "decision_id",
        "call_id",
        "caller",
        "callee",
        "tenant",
        "started_at",
        "ended_at",
        "duration_ms",
        "size_bytes",
        "sha256",
        "region",
        "vault_path",
        "retention_class",
        "legal_basis",
        "anchor_event",
        "anchor_at",
        "min_days",
        "retain_until",
        "legal_hold",
        "hold_reason",
        "hold_by",
        "hold_at",
        "ingested_at",
        "deleted_at",
        "deleted_by",
        "deleted_hash",
        "restricted",
        "restricted_until",
        SALT,
    ),
}
"""Per evidentiary table, the columns its digest covers. Not covered: ``decisions.latency_ms``
(a measurement, not what was decided), ``recordings.key_id`` (which master key wraps the file's
data key, changed by key rotation; the audio itself is bound by ``sha256``), the restriction's
free-text basis, and bookkeeping times (``created_at``/``updated_at``)."""

ROW_KEYS: dict[str, str] = {
    "decisions": "decision_id",
    "consents": "id",
    "dnc_entries": "id",
    "registered_numbers": "id",
    "recordings": "id",
}
"""Per evidentiary table, the column that names a row in ``evidence`` items."""


class Evidence(TypedDict):
    table: str
    key: str
    digest: str | None


def new_salt() -> str:
    """A fresh ``evidence_salt``: 128 random bits, hex."""
    return secrets.token_hex(16)


_AS_IS = frozenset({str, int, bool, float, type(None), list, dict})
"""Types whose values go into the digest unchanged (checked first: the decision log digests
every decision inside its write transaction)."""


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
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

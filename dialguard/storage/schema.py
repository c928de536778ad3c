"""The core tables, as SQLAlchemy Core; with the feature tables of the ``*_tables`` modules it
imports, the whole schema on :data:`~dialguard.storage.columns.metadata`.

Numbers are stored in E.164 only. Tenants are referred to by name (the natural key the PBX sends),
so the call-path lookups need no join. ``decisions`` and ``frequency_resets`` deliberately have no
foreign key to ``tenants``: a decision about an unknown tenant is still evidence and must be kept.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
)

from . import campaign_tables, recording_tables, rights_tables, token_tables
from .columns import (
    E164,
    TENANT_NAME_MAX,
    Id,
    UTCDateTime,
    metadata,
    restriction_columns,
    salt_column,
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(TENANT_NAME_MAX), nullable=False, unique=True),
    Column("industry", String(64), nullable=False, server_default="general"),
    Column("created_at", UTCDateTime(), nullable=False),
)


def _tenant_fk(nullable: bool) -> Column[str]:
    return Column("tenant", String(64), ForeignKey("tenants.name"), nullable=nullable)


registered_numbers = Table(
    "registered_numbers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("number", E164, nullable=False, index=True),
    _tenant_fk(nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("inbound_enabled", Boolean, nullable=False),
    Column("outbound_enabled", Boolean, nullable=False),
    Column("number_type", String(32), nullable=False),
    Column("filing_ref", Text),
    Column("filed_on", Date),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("number_class", String(32)),
    Column("effective_from", UTCDateTime()),
    Column("expires_on", Date),
    Column("ended_at", UTCDateTime()),
)
"""One row per registration (a number held by a tenant from its filing until it is ended), with
the terms of its latest version; the versions themselves are in ``number_filings``."""

NUMBER_HELD_INDEX = Index(
    "uq_registered_numbers_held",
    registered_numbers.c.number,
    unique=True,
    sqlite_where=registered_numbers.c.ended_at.is_(None),
    postgresql_where=registered_numbers.c.ended_at.is_(None),
)
"""Exclusivity: a number is held by at most one registration that has not ended, so two
concurrent registrations for different tenants cannot both be stored."""

number_filings = Table(
    "number_filings",
    metadata,
    Column("id", Id, primary_key=True),
    Column("registration_id", Id, ForeignKey("registered_numbers.id"), nullable=False),
    Column("number", E164, nullable=False, index=True),
    _tenant_fk(nullable=False),
    Column("change", String(16), nullable=False),
    Column("effective_from", UTCDateTime()),
    Column("expires_on", Date),
    Column("purposes", JSON, nullable=False),
    Column("inbound_enabled", Boolean, nullable=False),
    Column("outbound_enabled", Boolean, nullable=False),
    Column("number_type", String(32), nullable=False),
    Column("number_class", String(32)),
    Column("filing_ref", Text),
    Column("filed_on", Date),
    Column("active", Boolean, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("recorded_by", Text),
)
"""Every version of every registration's filing (``filed``, ``changed``, ``ended``), with its
own effective instant and the day it was reported to the regulator (``filed_on``)."""

dnc_entries = Table(
    "dnc_entries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("number", E164, nullable=False, index=True),
    Column("scope", String(16), nullable=False),
    _tenant_fk(nullable=True),
    Column("campaign", String(128)),
    Column("source", Text, nullable=False),
    Column("reason", Text),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("added_by", Text, nullable=False),
    Column("removed_at", UTCDateTime()),
    Column("removed_by", Text),
    Column("removal_reason", Text),
    salt_column(),
)
DNC_ACTIVE_INDEX = Index(
    "uq_dnc_entries_active",
    dnc_entries.c.number,
    dnc_entries.c.scope,
    func.coalesce(dnc_entries.c.tenant, ""),
    func.coalesce(dnc_entries.c.campaign, ""),
    unique=True,
    sqlite_where=dnc_entries.c.removed_at.is_(None),
    postgresql_where=dnc_entries.c.removed_at.is_(None),
)
"""At most one live entry per (number, scope, tenant, campaign): makes adds and imports idempotent.
Removed rows fall out of the index, so history can hold any number of them."""

consents = Table(
    "consents",
    metadata,
    Column("id", Id, primary_key=True),
    Column("callee", E164, nullable=False),
    _tenant_fk(nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("evidence_ref", Text, nullable=False),
    Column("channel", String(64), nullable=False),
    Column("given_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    *restriction_columns(),
    salt_column(),
    Index(None, "callee", "tenant"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("number", E164, primary_key=True),
    Column("minor", Boolean, nullable=False),
    Column("guardian", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("decision_id", String(36), nullable=False, unique=True),
    Column("call_id", Text),
    Column("direction", String(16), nullable=False),
    Column("presentation", String(16), nullable=False),
    Column("caller_raw", Text, nullable=False),
    Column("caller_e164", E164),
    Column("callee_raw", Text, nullable=False),
    Column("callee_e164", E164),
    Column("tenant", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("campaign", String(128)),
    Column("decided_at", UTCDateTime(), nullable=False, index=True),
    Column("verdict", String(8), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("first_reason", String(64)),
    Column("consent_ref", Text),
    Column("policy_version", String(64), nullable=False),
    Column("latency_ms", Float),
    Column("record", Boolean, nullable=False),
    Column("retention_class", String(64)),
    Column("retain_until", UTCDateTime()),
    *restriction_columns(),
    salt_column(),
    # The recording notice: "required" when decided, "played"/"missing" and the sound once the
    # call's recording is ingested; NULL: none required. Not evidence (``row_digests``): it
    # changes after the row is vouched for, and the ``recording.ingest`` entry vouches for it.
    Column("notice", String(16)),
    Column("notice_prompt", Text),
    # The dialer's Idempotency-Key (or call id) of POST /v1/decisions: one decision per key and
    # tenant, a retry gets the first one back (NULLs never collide). Not evidence: a lookup key.
    Column("idempotency_key", String(128)),
    Index("uq_decisions_idempotency", "tenant", "idempotency_key", unique=True),
    # The frequency rule's lookup: allowed attempts to a callee by a tenant, newest first.
    Index(None, "callee_e164", "tenant", "verdict", "decided_at"),
    Index(None, "callee_e164", "decided_at"),
    # The console's decisions filtered by caller ID, campaign or reason, newest first: without
    # them a rare one scans the whole range.
    Index(None, "caller_e164", "decided_at"),
    Index(None, "campaign", "decided_at"),
    Index(None, "first_reason", "decided_at"),
    # The console's and the quarterly report's counts per tenant and time range: covering, so
    # the overview reads the index alone (SQLite), never the rows.
    Index(
        "ix_decisions_tenant_decided_at_console",
        "tenant",
        "decided_at",
        "verdict",
        "first_reason",
        "restricted",
        "latency_ms",
        "campaign",
        "caller_e164",
    ),
)

decision_hours = Table(
    "decision_hours",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("hour", UTCDateTime(), primary_key=True),
    Column("verdict", String(8), primary_key=True),
    Column("reason", String(64), primary_key=True),
    Column("decided", BigInteger, nullable=False),
)
"""How many decisions each tenant got per UTC hour, verdict and first reason (``""``: none):
the console overview's counts without reading a million rows. Kept by every writer of
``decisions`` in the same transaction (:mod:`.decision_hours`); a row counts decisions as they
were decided, so it keeps counting those later restricted or erased (it names no one)."""

frequency_resets = Table(
    "frequency_resets",
    metadata,
    Column("id", Id, primary_key=True),
    Column("callee", E164, nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Index(None, "callee", "tenant", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    # A decision's (or any subject's) entries, for the console's decision page.
    Index(None, "subject"),
)

TABLE_MODULES = (campaign_tables, recording_tables, rights_tables, token_tables)
"""The other modules of tables, by feature. This module imports each of them, so :data:`SCHEMA`
holds every table of the database."""
SCHEMA = metadata
"""The whole schema, for migrations and schema checks (``metadata`` once every table is on it)."""

"""Initial schema: tenants, number registry, DNC, consents, contacts, decisions, audit chain.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Written out in full rather than derived from ``schema.py``: a migration must keep meaning what it
meant when it shipped. ``tests/integration/test_storage_migrations.py`` checks the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dialguard.storage.columns import Id, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("industry", sa.String(64), nullable=False, server_default="general"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )
    op.create_table(
        "registered_numbers",
        sa.Column("id", Id, nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("inbound_enabled", sa.Boolean(), nullable=False),
        sa.Column("outbound_enabled", sa.Boolean(), nullable=False),
        sa.Column("number_type", sa.String(32), nullable=False),
        sa.Column("filing_ref", sa.Text()),
        sa.Column("filed_on", sa.Date()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registered_numbers"),
        sa.ForeignKeyConstraint(
            ["tenant"], ["tenants.name"], name="fk_registered_numbers_tenant_tenants"
        ),
        sa.UniqueConstraint("number", "tenant", name="uq_registered_numbers_number_tenant"),
    )
    op.create_index("ix_registered_numbers_number", "registered_numbers", ["number"])
    op.create_table(
        "dnc_entries",
        sa.Column("id", Id, nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64)),
        sa.Column("campaign", sa.String(128)),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("removed_at", UTCDateTime()),
        sa.Column("removed_by", sa.Text()),
        sa.Column("removal_reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_dnc_entries"),
        sa.ForeignKeyConstraint(["tenant"], ["tenants.name"], name="fk_dnc_entries_tenant_tenants"),
    )
    op.create_index("ix_dnc_entries_number", "dnc_entries", ["number"])
    live = sa.text("removed_at IS NULL")
    op.create_index(
        "uq_dnc_entries_active",
        "dnc_entries",
        ["number", "scope", sa.text("coalesce(tenant, '')"), sa.text("coalesce(campaign, '')")],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
    op.create_table(
        "consents",
        sa.Column("id", Id, nullable=False),
        sa.Column("callee", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("evidence_ref", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("given_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.ForeignKeyConstraint(["tenant"], ["tenants.name"], name="fk_consents_tenant_tenants"),
    )
    op.create_index("ix_consents_callee_tenant", "consents", ["callee", "tenant"])
    op.create_table(
        "contacts",
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("guardian", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_contacts"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", Id, nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.Text()),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("presentation", sa.String(16), nullable=False),
        sa.Column("caller_raw", sa.Text(), nullable=False),
        sa.Column("caller_e164", sa.String(16)),
        sa.Column("callee_raw", sa.Text(), nullable=False),
        sa.Column("callee_e164", sa.String(16)),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128)),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("first_reason", sa.String(64)),
        sa.Column("consent_ref", sa.Text()),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("latency_ms", sa.Float()),
        sa.Column("record", sa.Boolean(), nullable=False),
        sa.Column("retention_class", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("decision_id", name="uq_decisions_decision_id"),
    )
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])
    op.create_index(
        "ix_decisions_callee_e164_tenant_verdict_decided_at",
        "decisions",
        ["callee_e164", "tenant", "verdict", "decided_at"],
    )
    op.create_index(
        "ix_decisions_callee_e164_decided_at", "decisions", ["callee_e164", "decided_at"]
    )
    op.create_table(
        "frequency_resets",
        sa.Column("id", Id, nullable=False),
        sa.Column("callee", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_frequency_resets"),
    )
    op.create_index(
        "ix_frequency_resets_callee_tenant_at", "frequency_resets", ["callee", "tenant", "at"]
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", Id, autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )


def downgrade() -> None:
    for table in (
        "audit_log",
        "frequency_resets",
        "decisions",
        "contacts",
        "consents",
        "dnc_entries",
        "registered_numbers",
        "tenants",
    ):
        op.drop_table(table)

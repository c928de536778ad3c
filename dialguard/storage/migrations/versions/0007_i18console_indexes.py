"""Indexes for the compliance console and the quarterly report.

Revision ID: i18console
Revises: i13ev
Create Date: 2026-12-05

- ``decisions (tenant, decided_at, verdict, first_reason, restricted, latency_ms, campaign,
  caller_e164)``: the overview's counts, latency percentiles and top denied caller IDs and
  campaigns per tenant and time range answered from the index alone, and the tenant-filtered
  decision listing.
- ``audit_log (subject)``: a decision's audit entries (the console's decision page).

Both are plain ``CREATE INDEX``; on a large PostgreSQL log create them ``CONCURRENTLY`` by hand
first (same names) if the gate cannot pause writes for the build.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "i18console"
down_revision: str | None = "i16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_decisions_tenant_decided_at_console",
        "decisions",
        [
            "tenant",
            "decided_at",
            "verdict",
            "first_reason",
            "restricted",
            "latency_ms",
            "campaign",
            "caller_e164",
        ],
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_index("ix_decisions_tenant_decided_at_console", table_name="decisions")

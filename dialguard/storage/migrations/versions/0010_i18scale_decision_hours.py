"""The decision log's hourly roll-up, filled from the decisions stored so far; indexes for the
console's decisions by caller ID, campaign and reason.

Revision ID: i18scale
Revises: i20
Create Date: 2026-12-06

``decision_hours (tenant, hour, verdict, reason, decided)``: decisions per tenant, UTC hour,
verdict and first reason (``""`` for none), which the console's overview reads instead of the
rows. The backfill counts every stored decision, restricted ones included, as the writers do
from now on. It is one ``INSERT … SELECT`` over the whole log, in the migration's transaction: run
``dialguard init`` with the gate stopped, as for every migration.

``decisions (caller_e164 | campaign | first_reason, decided_at)``: the console's listing
filtered by caller ID, campaign or reason, newest first, reads only the matching rows. Plain
``CREATE INDEX``; on a large PostgreSQL log create them ``CONCURRENTLY`` by hand first (same
names) if the gate cannot pause writes for the build.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i18scale"
down_revision: str | None = "i20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOUR = {
    # SQLite stores UTC as "YYYY-MM-DD HH:MM:SS.ffffff" text: keep the hour, zero the rest.
    "sqlite": "substr(decided_at, 1, 13) || ':00:00.000000'",
    "postgresql": "date_trunc('hour', decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}


def upgrade() -> None:
    op.create_table(
        "decision_hours",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("decided", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "hour", "verdict", "reason", name="pk_decision_hours"),
    )
    op.create_index(
        "ix_decisions_caller_e164_decided_at", "decisions", ["caller_e164", "decided_at"]
    )
    op.create_index("ix_decisions_campaign_decided_at", "decisions", ["campaign", "decided_at"])
    op.create_index(
        "ix_decisions_first_reason_decided_at", "decisions", ["first_reason", "decided_at"]
    )
    hour = _HOUR[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO decision_hours (tenant, hour, verdict, reason, decided) "
        f"SELECT tenant, {hour}, verdict, COALESCE(first_reason, ''), COUNT(*) "
        f"FROM decisions GROUP BY tenant, {hour}, verdict, COALESCE(first_reason, '')"
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_first_reason_decided_at", table_name="decisions")
    op.drop_index("ix_decisions_campaign_decided_at", table_name="decisions")
    op.drop_index("ix_decisions_caller_e164_decided_at", table_name="decisions")
    op.drop_table("decision_hours")

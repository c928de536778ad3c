"""Campaign scripts: every registration, approved or refused with its banned-phrase hits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-02-01

Written out in full rather than derived from ``dialguard/campaigns/tables.py``, like 0001-0003.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dialguard.storage.columns import Id, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_scripts",
        sa.Column("id", Id, nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("phrase_packs", sa.JSON(), nullable=False),
        sa.Column("phrase_version", sa.Text(), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_scripts"),
        sa.ForeignKeyConstraint(
            ["tenant"], ["tenants.name"], name="fk_campaign_scripts_tenant_tenants"
        ),
    )
    op.create_index(
        "ix_campaign_scripts_tenant_campaign_status",
        "campaign_scripts",
        ["tenant", "campaign", "status"],
    )


def downgrade() -> None:
    op.drop_table("campaign_scripts")

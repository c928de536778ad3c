"""Evidence and rights: API tokens, data-subject requests, hashed DNC entries, restriction marks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-20

Written out in full rather than derived from the table modules, like 0001 and 0002.
``decisions`` and ``recordings`` gain ``restricted``/``restricted_basis``/``restricted_until``
(plain ``ADD COLUMN`` on both backends; existing rows are not restricted).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dialguard.storage.columns import Id, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RESTRICTABLE = ("decisions", "recordings")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoked_by", sa.Text()),
        sa.Column("last_used_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
    )
    op.create_table(
        "dsr_requests",
        sa.Column("id", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("subject_masked", sa.String(32), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("handled_by", sa.Text(), nullable=False),
        sa.Column("outcome", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_dsr_requests"),
    )
    op.create_index("ix_dsr_requests_subject_hash", "dsr_requests", ["subject_hash"])
    op.create_table(
        "dnc_hashed",
        sa.Column("id", Id, nullable=False),
        sa.Column("number_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64)),
        sa.Column("campaign", sa.String(128)),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("erased_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime()),
        sa.Column("removed_by", sa.Text()),
        sa.Column("removal_reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_dnc_hashed"),
    )
    op.create_index("ix_dnc_hashed_number_hash", "dnc_hashed", ["number_hash"])
    for table in _RESTRICTABLE:
        op.add_column(
            table,
            sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
        op.add_column(table, sa.Column("restricted_basis", sa.Text()))
        op.add_column(table, sa.Column("restricted_until", UTCDateTime()))


def downgrade() -> None:
    for table in _RESTRICTABLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("restricted_until")
            batch.drop_column("restricted_basis")
            batch.drop_column("restricted")
    op.drop_table("dnc_hashed")
    op.drop_table("dsr_requests")
    op.drop_table("api_tokens")

"""Recordings: the vault's metadata (tombstones included) and the hold/anchor/delete history.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-15

Written out in full rather than derived from ``dialguard/storage/recording_tables.py``, like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dialguard.storage.columns import Id, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.Text()),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("callee", sa.Text(), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("vault_path", sa.Text(), nullable=False),
        sa.Column("retention_class", sa.String(64), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("anchor_event", sa.String(64), nullable=False),
        sa.Column("anchor_at", UTCDateTime()),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("retain_until", UTCDateTime()),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.Text()),
        sa.Column("hold_by", sa.Text()),
        sa.Column("hold_at", UTCDateTime()),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime()),
        sa.Column("deleted_by", sa.Text()),
        sa.Column("deleted_hash", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
        sa.UniqueConstraint("name", name="uq_recordings_name"),
    )
    op.create_index("ix_recordings_decision_id", "recordings", ["decision_id"])
    op.create_index("ix_recordings_retain_until", "recordings", ["retain_until"])
    op.create_index("ix_recordings_tenant_ended_at", "recordings", ["tenant", "ended_at"])
    op.create_table(
        "recording_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("recording_id", Id, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recording_events"),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_recording_events_recording_id_recordings",
        ),
    )
    op.create_index("ix_recording_events_recording_id", "recording_events", ["recording_id"])


def downgrade() -> None:
    op.drop_table("recording_events")
    op.drop_table("recordings")

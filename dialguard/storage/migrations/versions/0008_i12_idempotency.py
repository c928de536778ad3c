"""Idempotency keys of recorded pre-dial decisions (``POST /v1/decisions``).

Revision ID: i12
Revises: i16
Create Date: 2026-12-05

``decisions.idempotency_key`` (NULL for every existing row and for the PBX's decisions) with a
unique constraint per tenant, so concurrent retries of one request record one decision. The
column is not evidence: existing rows' digests are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i12"
down_revision: str | None = "i18console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("idempotency_key", sa.String(128)))
    op.create_index(
        "uq_decisions_idempotency", "decisions", ["tenant", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_decisions_idempotency", table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("idempotency_key")

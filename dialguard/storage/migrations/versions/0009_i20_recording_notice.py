"""The recording notice on each recording.

Revision ID: i20
Revises: i18console
Create Date: 2026-12-05

``recordings.notice`` (``played``/``missing``, NULL when no notice was required: every existing
row) and ``recordings.notice_prompt`` (the sound the PBX was to play). Plain ``ADD COLUMN`` on
both backends; not part of the row's evidence digest, so existing rows verify unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i20"
down_revision: str | None = "i12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("notice", sa.String(16)))
    op.add_column("recordings", sa.Column("notice_prompt", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("notice_prompt")
        batch.drop_column("notice")

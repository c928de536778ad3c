"""The recording notice on each decision.

Revision ID: i20notice
Revises: i18scale
Create Date: 2026-12-06

``decisions.notice``: ``required`` when the call was decided (its pack requires the notice and
the call is recorded), ``played`` or ``missing`` once the call's recording is ingested with the
PBX's report; NULL when no notice was required (every existing row: the gate did not store it
before). ``decisions.notice_prompt``: the sound the PBX reported. Plain ``ADD COLUMN`` on both
backends, no rewrite of the log. Neither column is part of the row's evidence digest, so rows
vouched for before verify unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i20notice"
down_revision: str | None = "i18scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("notice", sa.String(16)))
    op.add_column("decisions", sa.Column("notice_prompt", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("notice_prompt")
        batch.drop_column("notice")

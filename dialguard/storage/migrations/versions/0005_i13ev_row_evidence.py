"""Rows bound to the audit chain; retention fixed at decision time; restricted consents.

Revision ID: i13ev
Revises: 0004
Create Date: 2026-12-04

- ``evidence_salt`` on ``decisions``, ``consents``, ``dnc_entries`` and ``recordings``: the random
  salt of each row's evidence digest (:mod:`dialguard.storage.row_digests`), filled for existing
  rows.
- ``decisions.retain_until``: when the decision's retention ends, fixed when it is made (NULL for
  older rows, whose class is filled in from the tenant's industry at the time).
- ``consents`` gain ``restricted``/``restricted_basis``/``restricted_until``: consent evidence a
  retained decision relied on is restricted on erasure, not deleted.
- ``audit.baseline`` entries vouch for every existing evidentiary row
  (:mod:`dialguard.storage.evidence_baseline`), so an upgraded deployment verifies cleanly.

Plain ``ADD COLUMN`` on both backends. Stop the gates before upgrading: rows written by older
code during the upgrade would carry no evidence and be named by ``audit verify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from dialguard.storage import evidence_baseline
from dialguard.storage.columns import UTCDateTime

revision: str = "i13ev"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SALTED = ("decisions", "consents", "dnc_entries", "recordings")


def upgrade() -> None:
    for table in _SALTED:
        op.add_column(table, sa.Column("evidence_salt", sa.String(32)))
    op.add_column("decisions", sa.Column("retain_until", UTCDateTime()))
    op.add_column(
        "consents",
        sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("consents", sa.Column("restricted_basis", sa.Text()))
    op.add_column("consents", sa.Column("restricted_until", UTCDateTime()))
    conn = op.get_bind()
    evidence_baseline.backfill_salts(conn)
    evidence_baseline.backfill_retention_classes(conn)
    evidence_baseline.write_baseline(conn, datetime.now(UTC))


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("restricted_until")
        batch.drop_column("restricted_basis")
        batch.drop_column("restricted")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("retain_until")
    for table in _SALTED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("evidence_salt")

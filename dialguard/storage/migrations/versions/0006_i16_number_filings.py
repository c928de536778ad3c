"""Numbering classes, exclusive registrations and the filing lifecycle.

Revision ID: i16
Revises: i13ev
Create Date: 2026-12-05

- ``registered_numbers`` gains ``number_class``, ``effective_from``, ``expires_on`` and
  ``ended_at``; existing rows take effect from their ``filed_on`` (start of that day in Beijing
  time) or else from their creation.
- A number is held by at most one registration that has not ended: the unique constraint on
  (number, tenant) becomes a partial unique index on number where ``ended_at IS NULL``. Should
  two tenants hold the same number already, the most recently updated registration keeps it and
  the others are ended now (their rows stay, as evidence).
- ``number_filings``: every version of a registration's filing; each existing registration gets
  its ``filed`` version (and an ``ended`` one when it was ended above).

Stop the gates before upgrading.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from dialguard.storage.columns import Id, UTCDateTime

revision: str = "i16"
down_revision: str | None = "i13ev"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEIJING = ZoneInfo("Asia/Shanghai")

_registered = sa.table(
    "registered_numbers",
    sa.column("id", Id),
    sa.column("number", sa.String(16)),
    sa.column("tenant", sa.String(64)),
    sa.column("purposes", sa.JSON()),
    sa.column("inbound_enabled", sa.Boolean()),
    sa.column("outbound_enabled", sa.Boolean()),
    sa.column("number_type", sa.String(32)),
    sa.column("filing_ref", sa.Text()),
    sa.column("filed_on", sa.Date()),
    sa.column("active", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("effective_from", UTCDateTime()),
    sa.column("ended_at", UTCDateTime()),
)


def _filings_table() -> sa.Table:
    return op.create_table(
        "number_filings",
        sa.Column("id", Id, nullable=False),
        sa.Column("registration_id", Id, nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("effective_from", UTCDateTime()),
        sa.Column("expires_on", sa.Date()),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("inbound_enabled", sa.Boolean(), nullable=False),
        sa.Column("outbound_enabled", sa.Boolean(), nullable=False),
        sa.Column("number_type", sa.String(32), nullable=False),
        sa.Column("number_class", sa.String(32)),
        sa.Column("filing_ref", sa.Text()),
        sa.Column("filed_on", sa.Date()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_number_filings"),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registered_numbers.id"],
            name="fk_number_filings_registration_id_registered_numbers",
        ),
        sa.ForeignKeyConstraint(
            ["tenant"], ["tenants.name"], name="fk_number_filings_tenant_tenants"
        ),
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_BEIJING).astimezone(UTC)


def upgrade() -> None:
    op.add_column("registered_numbers", sa.Column("number_class", sa.String(32)))
    op.add_column("registered_numbers", sa.Column("effective_from", UTCDateTime()))
    op.add_column("registered_numbers", sa.Column("expires_on", sa.Date()))
    op.add_column("registered_numbers", sa.Column("ended_at", UTCDateTime()))
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = list(conn.execute(sa.select(_registered)))
    newest: dict[str, Any] = {}
    for row in rows:
        effective = _start_of(row.filed_on) if row.filed_on else row.created_at
        conn.execute(
            sa.update(_registered)
            .where(_registered.c.id == row.id)
            .values(effective_from=effective)
        )
        held = newest.get(row.number)
        if held is None or (row.updated_at, row.id) > (held.updated_at, held.id):
            newest[row.number] = row
    ended = {row.id for row in rows if newest[row.number].id != row.id}
    if ended:
        conn.execute(sa.update(_registered).where(_registered.c.id.in_(ended)).values(ended_at=now))
    with op.batch_alter_table("registered_numbers") as batch:
        batch.drop_constraint("uq_registered_numbers_number_tenant", type_="unique")
    op.create_index(
        "uq_registered_numbers_held",
        "registered_numbers",
        ["number"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    filings = _filings_table()
    op.create_index("ix_number_filings_number", "number_filings", ["number"])
    versions = []
    for row in conn.execute(sa.select(_registered).order_by(_registered.c.id)):
        terms = {
            "registration_id": row.id,
            "number": row.number,
            "tenant": row.tenant,
            "expires_on": None,
            "purposes": row.purposes,
            "inbound_enabled": row.inbound_enabled,
            "outbound_enabled": row.outbound_enabled,
            "number_type": row.number_type,
            "number_class": None,
            "filing_ref": row.filing_ref,
            "filed_on": row.filed_on,
            "recorded_by": "migration i16",
        }
        versions.append(
            {
                **terms,
                "change": "filed",
                "effective_from": row.effective_from,
                "active": row.active,
                "recorded_at": row.created_at,
            }
        )
        if row.ended_at is not None:
            versions.append(
                {
                    **terms,
                    "change": "ended",
                    "effective_from": row.ended_at,
                    "filed_on": None,
                    "active": False,
                    "recorded_at": row.ended_at,
                }
            )
    if versions:
        op.bulk_insert(filings, versions)


def downgrade() -> None:
    op.drop_index("ix_number_filings_number", table_name="number_filings")
    op.drop_table("number_filings")
    op.drop_index("uq_registered_numbers_held", table_name="registered_numbers")
    op.execute(sa.delete(_registered).where(_registered.c.ended_at.is_not(None)))
    with op.batch_alter_table("registered_numbers") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("expires_on")
        batch.drop_column("effective_from")
        batch.drop_column("number_class")
        batch.create_unique_constraint("uq_registered_numbers_number_tenant", ["number", "tenant"])

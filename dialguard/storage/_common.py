"""Small helpers the repositories share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from .errors import UnknownTenant
from .schema import tenants


def utcnow() -> datetime:
    """The default for ``at=`` of admin writes that are not given an explicit time."""
    return datetime.now(UTC)


def insert_ignoring_conflicts(conn: AsyncConnection, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's backend: a row that would violate
    a unique constraint or index is skipped, and ``RETURNING`` yields only the rows inserted."""
    if conn.dialect.name == "postgresql":
        # Imported here: a command on an SQLite database need not load the PostgreSQL dialect.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def require_tenants(conn: AsyncConnection, names: Iterable[str | None]) -> None:
    """Raise :class:`UnknownTenant` for the first of ``names`` that does not exist."""
    wanted = {name for name in names if name is not None}
    if not wanted:
        return
    found = set(
        (await conn.execute(select(tenants.c.name).where(tenants.c.name.in_(wanted)))).scalars()
    )
    missing = sorted(wanted - found)
    if missing:
        raise UnknownTenant(missing[0])

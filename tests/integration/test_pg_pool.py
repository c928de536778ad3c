"""The pool of migrated PostgreSQL copies (``tests/pg_pool.py``): what one test leaves in its
database, rows, sequence values, a schema change, a session left open, is gone for the next."""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest
from pg_databases import PG_URL_ENV, MigratedCopies, _admin_dsn
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres


def _dsn(url: str) -> str:
    return _admin_dsn(make_url(url))


def _name(url: str) -> str:
    return str(make_url(url).database)


async def _snapshot(url: str) -> dict[str, Any]:
    """Every row of every table, every sequence's value, and the schema as the information
    schema describes it (not the pool's own fingerprint). A lock a session left holds fails it
    instead of waiting."""
    conn = await asyncpg.connect(_dsn(url), server_settings={"lock_timeout": "5s"})
    try:
        tables = [
            row[0]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' ORDER BY table_name"
            )
        ]
        return {
            "rows": {
                table: sorted(
                    repr(tuple(row)) for row in await conn.fetch(f'SELECT * FROM "{table}"')
                )
                for table in tables
            },
            "sequences": [
                tuple(row)
                for row in await conn.fetch(
                    "SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename"
                )
            ],
            "columns": [
                tuple(row)
                for row in await conn.fetch(
                    "SELECT table_name, column_name, data_type, column_default "
                    "FROM information_schema.columns WHERE table_schema = 'public' "
                    "ORDER BY table_name, column_name"
                )
            ],
            "indexes": sorted(
                row[0]
                for row in await conn.fetch(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
                )
            ),
            "functions": await conn.fetchval(
                "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            ),
        }
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    conn = await asyncpg.connect(_dsn(os.environ[PG_URL_ENV]))
    try:
        found: bool = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name
        )
        return found
    finally:
        await conn.close()


async def test_rows_sequences_and_open_sessions_are_gone_for_the_next_test(
    migrated_copies: MigratedCopies,
) -> None:
    async with migrated_copies.leased_pg_database() as url:
        pristine = await _snapshot(url)
        conn = await asyncpg.connect(_dsn(url))
        await conn.execute("INSERT INTO tenants (name, created_at) VALUES ('leaked', now())")
        await conn.execute("UPDATE alembic_version SET version_num = 'tampered'")
        await conn.execute(
            "SELECT nextval(format('%I.%I', schemaname, sequencename)) FROM pg_sequences"
        )
        await conn.close()
        dirty = await _snapshot(url)
        assert dirty["rows"] != pristine["rows"]
        assert dirty["sequences"] != pristine["sequences"]
        left_open = await asyncpg.connect(_dsn(url))
        await left_open.execute("BEGIN")
        await left_open.execute("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE")
        first = _name(url)

    async with migrated_copies.leased_pg_database() as url:
        assert _name(url) == first, "a copy reset cleanly is used again"
        assert await _snapshot(url) == pristine
        with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError)):
            await left_open.fetchval("SELECT 1")
    left_open.terminate()


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE tenants ADD COLUMN leaked integer",
        "ALTER TABLE tenants ALTER COLUMN industry SET DEFAULT 'leaked'",
        "CREATE INDEX leaked ON tenants (industry)",
        "CREATE FUNCTION leaked() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "DROP TABLE decision_hours",
    ],
)
async def test_a_changed_schema_is_dropped_and_replaced_by_a_fresh_copy(
    migrated_copies: MigratedCopies, change: str
) -> None:
    async with migrated_copies.leased_pg_database() as url:
        pristine = await _snapshot(url)
        conn = await asyncpg.connect(_dsn(url))
        try:
            await conn.execute(change)
        finally:
            await conn.close()
        assert await _snapshot(url) != pristine
        changed = _name(url)

    assert not await _exists(changed)
    async with migrated_copies.leased_pg_database() as url:
        assert _name(url) != changed
        assert await _snapshot(url) == pristine

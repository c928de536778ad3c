"""Schema creation and upgrade, and the SQLite connection settings durability relies on."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg_databases import settings_for
from sqlalchemy import text
from sqlalchemy.engine import Connection

from dialguard.config import Settings
from dialguard.storage import SchemaOutOfDate, StorageError, Store, head_revision, init_database
from dialguard.storage.connection import create_engine
from dialguard.storage.schema import metadata


async def test_init_database_creates_then_is_a_no_op(db_settings: Settings) -> None:
    assert await init_database(db_settings) == head_revision()
    store = await Store.open(db_settings)
    async with store.transaction() as tx:
        await tx.tenants.ensure("acme")
    await store.close()

    assert await init_database(db_settings) == head_revision()
    store = await Store.open(db_settings)
    async with store.transaction(readonly=True) as tx:
        assert [t.name for t in await tx.tenants.list()] == ["acme"]
    await store.close()


def _diff(connection: Connection) -> list[Any]:
    with warnings.catch_warnings():
        # SQLite reflection skips expression indexes and says so (the DNC tests cover that one).
        warnings.filterwarnings("ignore", message=".*expression-based index")
        return compare_metadata(MigrationContext.configure(connection), metadata)


async def test_migrations_build_exactly_the_declared_schema(db_settings: Settings) -> None:
    await init_database(db_settings)
    engine = create_engine(db_settings.database)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_open_refuses_a_database_without_the_schema(db_settings: Settings) -> None:
    with pytest.raises(SchemaOutOfDate, match="run `dialguard init`"):
        await Store.open(db_settings)


async def test_open_reports_an_unreachable_database_as_storage_error() -> None:
    settings = settings_for("postgresql+asyncpg://nobody:x@127.0.0.1:9/none")
    with pytest.raises(StorageError, match="cannot open the database"):
        await Store.open(settings)


async def test_sqlite_connections_are_durable(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path}/new/dir/dg.db")
    await init_database(settings)
    assert (tmp_path / "new" / "dir" / "dg.db").exists()
    engine = create_engine(settings.database)
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 2  # FULL
    assert pragmas["foreign_keys"] == 1
    assert pragmas["busy_timeout"] >= 1000

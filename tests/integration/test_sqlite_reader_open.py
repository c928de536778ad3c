"""``open_sqlite_reader`` (how ``dialguard check`` reads facts without a store) opens the SQLite
files a store would open as they are, and stands aside for every other one, so that opening a
store names the problem exactly as before."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from builders import gate_settings

from dialguard.config import Settings
from dialguard.settings.database import DatabaseSettings
from dialguard.storage import SchemaOutOfDate, StorageError, Store, init_database
from dialguard.storage.facts import open_sqlite_reader
from dialguard.storage.subject_key import SubjectKey


async def initialised(tmp_path: Path) -> Settings:
    settings = gate_settings(tmp_path)
    await init_database(settings)
    store = await Store.open(settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme", "finance")
    finally:
        await store.close()
    return settings


def execute(tmp_path: Path, sql: str) -> None:
    conn = sqlite3.connect(tmp_path / "dg.db", isolation_level=None)
    try:
        conn.execute(sql)
    finally:
        conn.close()


async def test_an_initialised_file_is_read_without_a_store(tmp_path: Path) -> None:
    reader = open_sqlite_reader(await initialised(tmp_path))
    assert reader is not None
    try:
        acme = await reader.tenants.get("acme")
        assert acme is not None
        assert acme.industry == "finance"
        assert [t.name for t in await reader.tenants.list()] == ["acme"]
        assert await reader.tenants.get("acmee") is None
    finally:
        reader.close()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///{db}?timeout=5", "sqlite+aiosqlite://"])
async def test_a_url_that_is_not_a_plain_file_is_left_to_the_store(
    tmp_path: Path, url: str
) -> None:
    settings = await initialised(tmp_path)
    other = DatabaseSettings(url=url.format(db=tmp_path / "dg.db"))
    assert open_sqlite_reader(replace(settings, database=other)) is None


async def test_a_missing_file_is_left_to_the_store_and_not_created(tmp_path: Path) -> None:
    assert open_sqlite_reader(gate_settings(tmp_path)) is None
    assert not (tmp_path / "dg.db").exists()


async def test_a_file_at_another_revision_is_left_to_the_store(tmp_path: Path) -> None:
    settings = await initialised(tmp_path)
    execute(tmp_path, "UPDATE alembic_version SET version_num = '0001'")
    assert open_sqlite_reader(settings) is None
    with pytest.raises(SchemaOutOfDate, match="revision 0001"):
        await Store.open(settings)


async def test_erased_opt_outs_without_the_subject_key_are_left_to_the_store(
    tmp_path: Path,
) -> None:
    settings = await initialised(tmp_path)
    execute(
        tmp_path,
        "INSERT INTO dnc_hashed (number_hash, scope, added_at, erased_at) "
        f"VALUES ('{'0' * 64}', 'global', '2026-01-01 00:00:00.000000', "
        "'2026-02-01 00:00:00.000000')",
    )
    assert open_sqlite_reader(settings) is None
    with pytest.raises(StorageError, match=r"subject key .* is missing"):
        await Store.open(settings)
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    reader = open_sqlite_reader(settings)
    assert reader is not None
    reader.close()

"""Test databases: settings that name one, throwaway PostgreSQL databases beside the one
``DIALGUARD_TEST_PG_URL`` names, and copies of a schema migrated once.

A module of its own (not ``conftest``): test modules import it by name, and ``tests/e2e`` has a
``conftest`` of its own that would shadow the root one.

Migrating an empty database runs every Alembic script, which costs far more than the rest of most
storage tests, PostgreSQL's most of all; hundreds of tests want a freshly migrated database. So
:class:`MigratedCopies` migrates one template per backend (per test process) and copies it into
each test's empty database: a file copy for SQLite. For PostgreSQL even ``CREATE DATABASE …
TEMPLATE`` and the ``DROP`` after cost more than most tests, so :class:`MigratedCopies` keeps a
pool of copies (:mod:`pg_pool`) that are reset to the template's state between tests instead.
The migrations themselves run on empty databases in the tests that are about them
(``test_storage_migrations.py`` checks they build exactly the declared schema).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import asyncpg
import pg_pool
from sqlalchemy.engine import URL, make_url

from dialguard.config import Settings
from dialguard.settings.database import DatabaseSettings
from dialguard.storage import init_database

PG_URL_ENV = "DIALGUARD_TEST_PG_URL"
REQUIRE_PG_ENV = "DIALGUARD_REQUIRE_PG"


def settings_for(url: str) -> Settings:
    """The default settings with ``database.url`` set."""
    return replace(Settings(), database=DatabaseSettings(url=url))


def _admin_dsn(url: URL) -> str:
    """``url`` as asyncpg takes it (libpq's name for the TLS mode, no SQLAlchemy driver)."""
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_pg_database(base_url: str) -> AsyncIterator[str]:
    """A new, empty database next to the one ``base_url`` names; dropped on exit (if it exists
    then)."""
    url = make_url(base_url)
    name = f"dgtest_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(_admin_dsn(url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            await _drop(admin, name)
    finally:
        await admin.close()


async def _drop(admin: asyncpg.Connection, name: str) -> None:
    """A plain DROP first: PostgreSQL itself stops an autovacuum worker that happens to be in the
    database, which ``FORCE`` may not do for a role that is not a superuser ("must be a member
    of the role whose process is being terminated"). ``FORCE`` is for sessions a test left open."""
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    except asyncpg.ObjectInUseError:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy_database_file(template: Path, target: Path) -> None:
    assert not target.exists(), f"{target}: not an empty database"
    target.parent.mkdir(parents=True, exist_ok=True)
    # The engine that migrated it is closed: the write-ahead log is folded into the file.
    shutil.copyfile(template, target)


class MigratedCopies:
    """Empty databases brought to the head revision by copying a template migrated once.

    The templates are made on first use: an SQLite file in ``directory``, a PostgreSQL database
    beside ``pg_url``'s. PostgreSQL copies come from :meth:`leased_pg_database`, a pool reset
    between tests (:mod:`pg_pool`). :meth:`close` drops the pool and the template."""

    def __init__(self, directory: Path, pg_url: str | None) -> None:
        self._directory = directory
        self._pg_url = make_url(pg_url) if pg_url else None
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_state: pg_pool.TemplateState | None = None
        self._idle: list[str] = []
        self._leased: set[str] = set()

    async def migrate(self, settings: Settings) -> None:
        """What ``init_database(settings)`` does to the empty database ``settings`` names (a
        database from :meth:`leased_pg_database` is already migrated)."""
        url = make_url(settings.database.url)
        if url.get_backend_name() == "sqlite":
            assert url.database is not None
            await self._copy_sqlite(Path(url.database))
        elif url.database not in self._leased:
            await self._clone_postgres(url)

    async def _copy_sqlite(self, target: Path) -> None:
        if self._sqlite_template is None:
            template = self._directory / "template.db"
            await init_database(settings_for(f"sqlite+aiosqlite:///{template}"))
            self._sqlite_template = template
        await asyncio.to_thread(_copy_database_file, self._sqlite_template, target)

    @asynccontextmanager
    async def leased_pg_database(self) -> AsyncIterator[str]:
        """The URL of a PostgreSQL database at the head revision, as the template is, for one
        test; on exit it is reset for the next test, or dropped when it cannot be reset
        exactly."""
        assert self._pg_url is not None, f"{PG_URL_ENV} names no server"
        name = self._idle.pop() if self._idle else await self._new_copy(self._pg_url)
        self._leased.add(name)
        try:
            yield self._pg_url.set(database=name).render_as_string(hide_password=False)
        finally:
            self._leased.discard(name)
            if await self._reset(self._pg_url, name):
                self._idle.append(name)

    async def _new_copy(self, pg_url: URL) -> str:
        name = f"dgtest_{uuid.uuid4().hex[:16]}"
        await self._clone_postgres(pg_url.set(database=name))
        return name

    async def _reset(self, pg_url: URL, name: str) -> bool:
        assert self._pg_state is not None
        try:
            # A lock a session of the test's still holds fails the reset instead of waiting.
            conn = await asyncpg.connect(
                _admin_dsn(pg_url.set(database=name)), server_settings={"lock_timeout": "10s"}
            )
            try:
                if await pg_pool.reset(conn, self._pg_state):
                    return True
            finally:
                await conn.close()
        except asyncpg.PostgresError:
            pass
        admin = await asyncpg.connect(_admin_dsn(pg_url))
        try:
            await _drop(admin, name)
        finally:
            await admin.close()
        return False

    async def _clone_postgres(self, target: URL) -> None:
        assert self._pg_url is not None, f"{PG_URL_ENV} names no server"
        admin = await asyncpg.connect(_admin_dsn(self._pg_url))
        try:
            if self._pg_template is None:
                self._pg_template, self._pg_state = await self._migrated_pg_template(
                    admin, self._pg_url
                )
            await _drop(admin, str(target.database))  # the empty one made for the test
            await admin.execute(
                f'CREATE DATABASE "{target.database}" TEMPLATE "{self._pg_template}"'
            )
        finally:
            await admin.close()

    @staticmethod
    async def _migrated_pg_template(
        admin: asyncpg.Connection, pg_url: URL
    ) -> tuple[str, pg_pool.TemplateState]:
        name = f"dgtest_template_{uuid.uuid4().hex[:16]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = pg_url.set(database=name)
            await init_database(settings_for(url.render_as_string(hide_password=False)))
            conn = await asyncpg.connect(_admin_dsn(url))
            try:
                state = await pg_pool.capture(conn)
            finally:
                await conn.close()
        except BaseException:
            await _drop(admin, name)
            raise
        return name, state

    def close(self) -> None:
        if self._pg_template is None or self._pg_url is None:
            return
        asyncio.run(self._drop_all(self._pg_url, [*self._idle, self._pg_template]))

    @staticmethod
    async def _drop_all(pg_url: URL, names: list[str]) -> None:
        admin = await asyncpg.connect(_admin_dsn(pg_url))
        try:
            for name in names:
                await _drop(admin, name)
        finally:
            await admin.close()

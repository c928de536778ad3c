"""Engines for the two backends, with the per-connection settings durability depends on
(:mod:`dialguard.storage.sqlite_file` says which and why for SQLite).

pysqlite's own transaction handling starts transactions late (after a SELECT has already read), so
it is switched off and every transaction is begun explicitly: ``BEGIN IMMEDIATE`` for writers, which
takes the write lock up front and so can never fail half-way on a stale snapshot, and plain
``BEGIN`` for read-only work.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..config import Settings
from ..files.modes import PRIVATE, ensure_file
from ..settings.database import DatabaseSettings
from ..settings.errors import ConfigError
from .errors import describe
from .pgtls import tls_connect_args
from .sqlite_file import configure_sqlite

WRITE_OPTION = "dialguard_write"
"""Execution option a connection carries when its next transaction will write."""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    configure_sqlite(dbapi_connection)


def _on_sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, True)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def truncate_wal(path: Path) -> bool:
    """Copy every page in ``path``'s write-ahead log into the database file and empty the log
    (``wal_checkpoint(TRUNCATE)``, waiting up to ``busy_timeout`` for readers and writers).
    False when it could not complete: a reader still used older pages of the log."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        configure_sqlite(conn)
        (busy, _log, _done) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    return bool(busy == 0)


def sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


_URL_FORMS = (
    "sqlite+aiosqlite:////var/lib/dialguard/dialguard.db or postgresql+asyncpg://user@host/db"
)
_CREDENTIALS = re.compile(r"[^/@]*:[^/@]*@")


def shown_url(raw: str) -> str:
    """``raw`` without its password, for messages: as SQLAlchemy renders it, or, when it does not
    parse, with any ``user:password@`` cut out."""
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _CREDENTIALS.sub("***@", raw)


def unreachable(verb: str, settings: Settings, exc: BaseException) -> str:
    """The message for a database that could not be opened: which one (``database.url``, without
    its password), the driver's reason, and what to check."""
    url = settings.database.url
    hint = (
        "check the file and its directory can be read and written by this user"
        if url.startswith("sqlite")
        else "check the server is running and reachable, and the URL's host, port, user and "
        "database"
    )
    return f"cannot {verb} the database {shown_url(url)} (database.url): {describe(exc)}; {hint}"


def create_engine(database: DatabaseSettings) -> AsyncEngine:
    """An engine for ``database.url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    A URL that cannot be parsed, or an SQLite file that cannot be created, is a
    :class:`~dialguard.config.ConfigError` naming ``database.url`` and what to do."""
    try:
        url = make_url(database.url)
    except ArgumentError:
        raise ConfigError(
            f"database.url: cannot parse {shown_url(database.url)!r} as a database URL "
            f"(expected {_URL_FORMS})"
        ) from None
    if url.drivername == "sqlite+aiosqlite":
        path = sqlite_file(database.url)
        if path is not None:  # created 0600 here: SQLite gives its -wal and -shm the same mode
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                ensure_file(path, PRIVATE)
            except OSError as exc:
                raise ConfigError(
                    f"database.url: cannot create the database file {path}: "
                    f"{exc.strerror or exc}; make {path.parent} writable for this user, or point "
                    "database.url at a file you may write (--set database.url=…)"
                ) from None
        engine = create_async_engine(url, pool_size=database.pool_size)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return engine
    if url.drivername == "postgresql+asyncpg":
        url, connect_args = tls_connect_args(url)
        return create_async_engine(url, pool_size=database.pool_size, connect_args=connect_args)
    raise ConfigError(f"database.url: unsupported database {url.drivername!r} (use {_URL_FORMS})")

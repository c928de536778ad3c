"""An SQLite store's file as plain ``sqlite3`` code sees it: where it is, and how every connection
to it is set up. Free of SQLAlchemy: the call path and ``dialguard check`` open their own
connections without importing it.

SQLite: WAL so readers (the call path) never wait for a writer; ``synchronous=FULL`` so a commit
that let a call through survives a power cut; ``busy_timeout`` so writers from other processes
(the CLI) queue instead of failing; ``foreign_keys=ON``, which SQLite leaves off by default;
``secure_delete=ON`` so a deleted or overwritten value is zeroed in its page rather than left in
free space, which erasure relies on (with :func:`~dialguard.storage.connection.truncate_wal` for
the old pages in the WAL).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .subject_key import SubjectKey

BUSY_TIMEOUT_MS = 10_000

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
)

_PLAIN_FILE_URL = "sqlite+aiosqlite:///"
_NOT_PLAIN = set("?#%@")


@dataclass(frozen=True)
class SqliteFile:
    """Where an SQLite store lives, for code of :mod:`dialguard.storage` that opens its own
    synchronous connections to it (the call path, the decision log's group commits)."""

    path: Path
    subject_key: SubjectKey | None


def configure_sqlite(dbapi_connection: Any) -> None:
    """Set up a new SQLite connection as every connection of a store is: autocommit at the driver
    (transactions are begun explicitly) and the store's pragmas. The pool runs it on each
    connection it opens; code that opens its own ``sqlite3`` connections calls it too."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def plain_sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite+aiosqlite:///PATH`` URL, read without SQLAlchemy's URL parser;
    None for any other URL, and for one with a query, an escape or a fragment (whoever needs
    those opens a :class:`~dialguard.storage.store.Store`, which parses every form)."""
    if not url.startswith(_PLAIN_FILE_URL):
        return None
    path = url.removeprefix(_PLAIN_FILE_URL)
    if not path or path == ":memory:" or path.startswith("file:") or _NOT_PLAIN & set(path):
        return None
    return Path(path)

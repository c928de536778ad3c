"""The one way into the database: ``Store.open(settings)`` and ``store.transaction()``.

A transaction hands out repositories that take and return plain values and frozen dataclasses,
and every database or driver failure surfaces as :class:`~dialguard.storage.errors.StorageError`;
the package docstring says who else may see SQLAlchemy (audit verification only).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..config import Settings
from .audit import AuditRepository
from .callees import ConsentRepository, ContactRepository
from .connection import WRITE_OPTION, create_engine, sqlite_file, truncate_wal, unreachable
from .console import ConsoleQueries
from .decisions import DecisionRepository
from .dnc import DncRepository
from .dsr_requests import DsrRepository
from .errors import StorageError, describe
from .evidence import Changes, EvidenceRepository
from .migrate import RECORDED_REVISION, check_revision
from .quarterly import QuarterlyQueries
from .recordings import RecordingRepository
from .registry import NumberRepository, TenantRepository
from .rights_tables import dnc_hashed
from .scripts import ScriptRepository
from .sqlite_file import SqliteFile
from .subject_data import SubjectDataRepository
from .subject_key import SubjectKey, load_subject_key
from .tokens import TokenRepository

HASHED_DNC_KEPT = select(dnc_hashed.c.id).limit(1)
"""Any opt-out kept by pseudonym after an erasure? Opening a store without the subject key
refuses when there is (the call path's SQLite reader asks it too)."""


class MissingSubjectKey(ValueError):
    """Work that names a person needs the subject key (``dsr.hash_key_file``), and it is absent."""


class Transaction:
    """The repositories, all working in one database transaction."""

    def __init__(self, conn: AsyncConnection, subject_key: SubjectKey | None = None) -> None:
        self._subject_key = subject_key
        changes = Changes()
        self.tenants = TenantRepository(conn)
        self.numbers = NumberRepository(conn, changes)
        self.dnc = DncRepository(conn, changes, subject_key.digest if subject_key else None)
        self.consents = ConsentRepository(conn, changes)
        self.contacts = ContactRepository(conn)
        self.decisions = DecisionRepository(conn)
        self.audit = AuditRepository(conn)
        self.evidence = EvidenceRepository(conn, changes)
        """Evidence items for the audit entry of what this transaction wrote."""
        self.recordings = RecordingRepository(conn, changes)
        self.tokens = TokenRepository(conn)
        self.dsr = DsrRepository(conn)
        self.subject_data = SubjectDataRepository(conn, changes)
        self.scripts = ScriptRepository(conn)
        self.console = ConsoleQueries(conn)
        """Range counts and keyset pages of decisions (console, quarterly report)."""
        self.quarterly = QuarterlyQueries(conn)
        """What the quarterly self-assessment counts."""

    @property
    def subject_key(self) -> SubjectKey:
        """The key for number pseudonyms (audit subjects, erased opt-outs, request subjects)."""
        if self._subject_key is None:
            raise MissingSubjectKey(
                "no subject hash key (dsr.hash_key_file): create it with `dialguard init`"
            )
        return self._subject_key


class Store:
    def __init__(self, engine: AsyncEngine, subject_key: SubjectKey | None = None) -> None:
        self._engine = engine
        self._subject_key = subject_key

    @classmethod
    async def open(cls, settings: Settings) -> Store:
        """Connect and check the schema is at the revision this code expects (raising
        :class:`~dialguard.storage.errors.SchemaOutOfDate` naming the fix if not).

        The subject key is loaded when its file exists. Without it the DNC cannot match erased
        people's opt-outs, so opening fails if there are any: calling them would be the error.
        """
        key_path = Path(settings.dsr.hash_key_file)
        subject_key = load_subject_key(key_path)
        engine = create_engine(settings.database)
        try:
            await check_revision(engine)
            if subject_key is None:
                await _require_no_hashed_dnc(engine, key_path)
        except (SQLAlchemyError, OSError) as exc:
            await engine.dispose()
            raise StorageError(unreachable("open", settings, exc)) from exc
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, subject_key)

    async def close(self) -> None:
        await self._engine.dispose()

    async def ping(self) -> None:
        """One round trip that reads the database (``GET /health``): :class:`StorageError` when
        it cannot be reached or read."""
        try:
            async with self._engine.connect() as conn:
                await conn.execute(RECORDED_REVISION)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc

    def sqlite_file(self) -> SqliteFile | None:
        """The database file and subject key when this store is an SQLite file; None for
        PostgreSQL and in-memory databases."""
        url = self._engine.url
        if url.drivername != "sqlite+aiosqlite":
            return None
        path = sqlite_file(url.render_as_string(hide_password=False))
        return None if path is None else SqliteFile(path, self._subject_key)

    async def truncate_wal(self) -> bool | None:
        """After an erasure: on an SQLite file, checkpoint the write-ahead log and truncate it
        (:func:`~dialguard.storage.connection.truncate_wal`), so the old versions of the erased
        pages leave the ``-wal``; True when done, False when a reader kept it from completing.
        None for other databases (PostgreSQL keeps dead tuples until VACUUM)."""
        file = self.sqlite_file()
        if file is None:
            return None
        try:
            return await asyncio.to_thread(truncate_wal, file.path)
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Transaction]:
        """Commit when the block ends, roll back if it raises.

        ``readonly=True`` is for lookups (the call path): on SQLite it starts a plain ``BEGIN``,
        which never waits for a writer under WAL, where writing transactions take the write lock
        up front. It does not forbid writes; it only makes them liable to fail with "busy".
        """
        try:
            async with self._engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    await conn.execution_options(**{WRITE_OPTION: not readonly})
                async with conn.begin():
                    yield Transaction(conn, self._subject_key)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc


async def _require_no_hashed_dnc(engine: AsyncEngine, key_path: Path) -> None:
    async with engine.connect() as conn:
        kept = (await conn.execute(HASHED_DNC_KEPT)).first()
    if kept is not None:
        raise StorageError(
            f"the DNC holds opt-outs of erased people, matched by keyed hash, but the subject "
            f"key {key_path} (dsr.hash_key_file) is missing: restore it from backup"
        )

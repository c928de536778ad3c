"""The one way into the database: ``Store.open(settings)`` and ``store.transaction()``.

Nothing outside :mod:`dialguard.storage` sees SQLAlchemy: a transaction hands out repositories
that take and return plain values and frozen dataclasses, and every database or driver failure
surfaces as :class:`~dialguard.storage.errors.StorageError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..config import Settings
from ..recording.catalog import RecordingRepository
from ._common import describe
from .audit import AuditRepository
from .callees import ConsentRepository, ContactRepository
from .decisions import DecisionRepository
from .dnc import DncRepository
from .engine import WRITE_OPTION, create_engine
from .errors import StorageError
from .migrate import check_revision
from .registry import NumberRepository, TenantRepository


class Transaction:
    """The repositories, all working in one database transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.tenants = TenantRepository(conn)
        self.numbers = NumberRepository(conn)
        self.dnc = DncRepository(conn)
        self.consents = ConsentRepository(conn)
        self.contacts = ContactRepository(conn)
        self.decisions = DecisionRepository(conn)
        self.audit = AuditRepository(conn)
        self.recordings = RecordingRepository(conn)


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    async def open(cls, settings: Settings) -> Store:
        """Connect and check the schema is at the revision this code expects (raising
        :class:`~dialguard.storage.errors.SchemaOutOfDate` naming the fix if not)."""
        engine = create_engine(settings.database)
        try:
            await check_revision(engine)
        except (SQLAlchemyError, OSError) as exc:
            await engine.dispose()
            raise StorageError(f"cannot open the database: {describe(exc)}") from exc
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

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
                    yield Transaction(conn)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc

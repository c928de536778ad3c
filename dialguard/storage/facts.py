"""Everything storage knows that bears on one call attempt, gathered for the policy.

This runs for every call, inside the gate's deadline: six indexed point queries (seven for a
campaign call) in one read-only transaction, and none of them when the number they concern did
not normalise.

On an SQLite file the gate runs these queries, and the decision log its group commits, through
synchronous connections instead of aiosqlite (:func:`call_path_reader`, :func:`batch_writer`):
aiosqlite hands every statement to a worker thread and back, about ten GIL hand-offs per call,
which cost milliseconds under load while the statements take microseconds. The repositories
and their SQL are the same on both paths; PostgreSQL keeps the asyncpg path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Executable, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import StaticPool

from ..policy.model import CallAttempt, Facts
from ._common import describe
from .engine import WRITE_OPTION, _on_sqlite_begin, _on_sqlite_connect, _sqlite_file
from .errors import StorageError
from .store import Store, Transaction

_T = TypeVar("_T")

READ_BUSY_TIMEOUT_MS = 200
"""How long a call-path read may wait on a lock. Readers never wait for writers under WAL; this
only bounds rare cases (WAL recovery after a crash) during which the event loop is blocked."""


async def lookup_facts(
    tx: Transaction,
    attempt: CallAttempt,
    caller_e164: str | None,
    callee_e164: str | None,
    now: datetime,
    window: timedelta,
) -> Facts:
    """Facts for ``attempt``; ``window`` is the longest frequency window of the policy.

    ``callee_time_zones`` is left empty: it comes from the number, not the database.
    """
    registrations = await tx.numbers.get(caller_e164) if caller_e164 is not None else ()
    tenant = await tx.tenants.get(attempt.tenant)
    industry = tenant.industry if tenant is not None else "general"
    script_approved = (
        await tx.scripts.approved(attempt.tenant, attempt.campaign) if attempt.campaign else None
    )
    if callee_e164 is None:
        return Facts(
            caller=caller_e164,
            callee=None,
            caller_registrations=registrations,
            tenant_industry=industry,
            campaign_script_approved=script_approved,
        )
    return Facts(
        caller=caller_e164,
        callee=callee_e164,
        caller_registrations=registrations,
        tenant_industry=industry,
        dnc=await tx.dnc.matching(callee_e164, attempt.tenant, attempt.campaign, now),
        consents=await tx.consents.for_callee(callee_e164, attempt.tenant),
        recent_attempts=await tx.decisions.recent_allowed(
            callee_e164, attempt.tenant, now - window
        ),
        contact=await tx.contacts.get(callee_e164),
        campaign_script_approved=script_approved,
    )


class _InlineConnection:
    """Just what the repositories use of an ``AsyncConnection`` (``execute``, ``dialect``), run
    on a synchronous connection in the calling thread. Its coroutines never suspend."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)


class SqliteCallPathReader:
    """Read-only transactions for the call path on an SQLite file, in the event loop's thread.

    aiosqlite runs every statement in a worker thread and hands the result back through the event
    loop: about ten thread hand-offs per call, each waiting for the GIL, which cost milliseconds
    under load while the statements themselves take microseconds. Here the same repositories run
    on one synchronous pysqlite connection (same pragmas, plain ``BEGIN``: under WAL a reader never
    waits for a writer), inline.
    """

    def __init__(self, store: Store, path: str) -> None:
        self._subject_key = store._subject_key  # storage-internal, as for the engine below
        engine = create_engine(f"sqlite:///{path}", poolclass=StaticPool)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "connect", _on_read_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        self._engine = engine
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = True) -> AsyncIterator[Transaction]:
        if not readonly:
            raise ValueError("the call-path reader only reads")
        async with self._lock:  # uncontended while the repositories never suspend
            try:
                if self._conn is None:
                    self._conn = self._engine.connect().execution_options(**{WRITE_OPTION: False})
                with self._conn.begin():
                    conn = cast(AsyncConnection, _InlineConnection(self._conn))
                    yield Transaction(conn, self._subject_key)
            except SQLAlchemyError as exc:
                raise StorageError(f"database error: {describe(exc)}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def _on_read_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={READ_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
    finally:
        cursor.close()


def run_inline(coro: Coroutine[Any, Any, _T]) -> _T:
    """The result of a coroutine that never suspends (repositories on an inline connection)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return cast(_T, stop.value)
    coro.close()
    raise RuntimeError("a storage call on an inline connection suspended")


class SqliteBatchWriter:
    """One write transaction per call of :meth:`write`, done entirely in a worker thread: one
    thread hand-off per batch instead of one per statement (begin, insert, commit, reset), so the
    group commit's fsync never waits for the event loop's thread, nor the loop for it."""

    def __init__(self, store: Store, path: str) -> None:
        self._subject_key = store._subject_key
        engine = create_engine(
            f"sqlite:///{path}", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        self._engine = engine

    async def write(self, work: Callable[[Transaction], Coroutine[Any, Any, None]]) -> None:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` … ``COMMIT`` (the caller serialises calls)."""
        await asyncio.to_thread(self._write, work)

    def _write(self, work: Callable[[Transaction], Coroutine[Any, Any, None]]) -> None:
        try:
            with self._engine.begin() as conn:
                inline = cast(AsyncConnection, _InlineConnection(conn))
                run_inline(work(Transaction(inline, self._subject_key)))
        except SQLAlchemyError as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc

    def close(self) -> None:
        self._engine.dispose()


def _sqlite_path(store: Store) -> str | None:
    url = store._engine.url  # storage-internal: the store does not expose its engine elsewhere
    if url.drivername != "sqlite+aiosqlite":
        return None
    path = _sqlite_file(url.render_as_string(hide_password=False))
    return None if path is None else str(path)


def batch_writer(store: Store) -> SqliteBatchWriter | None:
    """A :class:`SqliteBatchWriter` for an SQLite file; None: use ``store.transaction()``."""
    path = _sqlite_path(store)
    return None if path is None else SqliteBatchWriter(store, path)


def call_path_reader(store: Store) -> Store | SqliteCallPathReader:
    """The fastest way to read facts from ``store``: inline for an SQLite file, else the store."""
    path = _sqlite_path(store)
    return store if path is None else SqliteCallPathReader(store, path)

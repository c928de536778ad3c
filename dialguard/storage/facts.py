"""Everything storage knows that bears on one call attempt, gathered for the policy.

This runs for every call, inside the gate's deadline: six indexed point queries (seven with the
subject key, which also matches erased people's opt-outs by pseudonym; one more for a campaign
call) in one read-only transaction, and none of the callee's when it did not normalise.
:func:`lookup_facts` decides what is asked; a :class:`FactReads` answers it.

On an SQLite file the gate answers through :class:`SqliteFactReader`: one synchronous, read-only
``sqlite3`` connection in the event loop's thread, running the repositories' own statements
(``TENANT_BY_NAME``, ``dnc.MATCHING``, … — one definition of each rule) compiled once to constant
SQL (:class:`~dialguard.storage.compiled.CompiledSelect`), and the repositories' own row
converters. aiosqlite would hand every statement to a worker thread and back (about ten GIL
hand-offs per call), and SQLAlchemy's per-execution work costs several times what SQLite takes
to answer the query (``docs/developers/performance.md``). ``tests/integration/test_fact_paths.py``
runs both paths over the same data and asserts identical facts; it is what keeps them in step.
PostgreSQL keeps the repository path.
The decision log's group commits take the same route (:mod:`dialguard.storage.decision_writer`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from ..policy.model import (
    CallAttempt,
    ConsentRecord,
    ContactFlags,
    Direction,
    DncEntry,
    Facts,
    RegisteredNumber,
)
from . import callees, decisions, dnc, registry
from ._common import describe
from .compiled import CompiledSelect
from .connection import configure_sqlite
from .errors import StorageError
from .records import require_e164
from .scripts import SCRIPT_APPROVED
from .store import SqliteFile, Store, Transaction

_T = TypeVar("_T")

READ_BUSY_TIMEOUT_MS = 200
"""How long a call-path read may wait on a lock. Readers never wait for writers under WAL; this
only bounds rare cases (WAL recovery after a crash) during which the event loop is blocked."""


class FactReads(Protocol):
    """The questions :func:`lookup_facts` asks, all in one read-only transaction."""

    async def registrations(self, number: str) -> tuple[RegisteredNumber, ...]: ...
    async def industry(self, tenant: str) -> str: ...
    async def script_approved(self, tenant: str, campaign: str) -> bool: ...
    async def dnc(
        self, number: str, tenant: str, campaign: str | None, now: datetime
    ) -> tuple[DncEntry, ...]: ...
    async def consents(self, callee: str, tenant: str) -> tuple[ConsentRecord, ...]: ...
    async def recent_allowed(
        self, callee: str, tenant: str, since: datetime
    ) -> tuple[datetime, ...]: ...
    async def contact(self, number: str) -> ContactFlags | None: ...


async def lookup_facts(
    tx: Transaction,
    attempt: CallAttempt,
    caller_e164: str | None,
    callee_e164: str | None,
    now: datetime,
    window: timedelta,
) -> Facts:
    """Facts for ``attempt`` through the repositories of ``tx``; ``window`` is the longest
    frequency window of the policy.

    ``callee_time_zones`` is left empty: it comes from the number, not the database.
    """
    return await gather_facts(TransactionReads(tx), attempt, caller_e164, callee_e164, now, window)


async def gather_facts(
    reads: FactReads,
    attempt: CallAttempt,
    caller_e164: str | None,
    callee_e164: str | None,
    now: datetime,
    window: timedelta,
) -> Facts:
    """:func:`lookup_facts` on any :class:`FactReads`."""
    registrations = await reads.registrations(caller_e164) if caller_e164 is not None else ()
    inbound = attempt.direction is Direction.INBOUND
    dialled = await reads.registrations(callee_e164) if inbound and callee_e164 else ()
    industry = await reads.industry(attempt.tenant)
    script_approved = (
        await reads.script_approved(attempt.tenant, attempt.campaign) if attempt.campaign else None
    )
    if callee_e164 is None:
        return Facts(
            caller=caller_e164,
            callee=None,
            caller_registrations=registrations,
            callee_registrations=dialled,
            tenant_industry=industry,
            campaign_script_approved=script_approved,
        )
    return Facts(
        caller=caller_e164,
        callee=callee_e164,
        caller_registrations=registrations,
        callee_registrations=dialled,
        tenant_industry=industry,
        dnc=await reads.dnc(callee_e164, attempt.tenant, attempt.campaign, now),
        consents=await reads.consents(callee_e164, attempt.tenant),
        recent_attempts=await reads.recent_allowed(callee_e164, attempt.tenant, now - window),
        contact=await reads.contact(callee_e164),
        campaign_script_approved=script_approved,
    )


class TransactionReads:
    """:class:`FactReads` through the repositories (any backend)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def registrations(self, number: str) -> tuple[RegisteredNumber, ...]:
        return await self._tx.numbers.versions(number)

    async def industry(self, tenant: str) -> str:
        found = await self._tx.tenants.get(tenant)
        return found.industry if found is not None else "general"

    async def script_approved(self, tenant: str, campaign: str) -> bool:
        return await self._tx.scripts.approved(tenant, campaign)

    async def dnc(
        self, number: str, tenant: str, campaign: str | None, now: datetime
    ) -> tuple[DncEntry, ...]:
        return await self._tx.dnc.matching(number, tenant, campaign, now)

    async def consents(self, callee: str, tenant: str) -> tuple[ConsentRecord, ...]:
        return await self._tx.consents.for_callee(callee, tenant)

    async def recent_allowed(
        self, callee: str, tenant: str, since: datetime
    ) -> tuple[datetime, ...]:
        return await self._tx.decisions.recent_allowed(callee, tenant, since)

    async def contact(self, number: str) -> ContactFlags | None:
        return await self._tx.contacts.get(number)


_TENANT = CompiledSelect(registry.TENANT_BY_NAME)
_REGISTRATIONS = CompiledSelect(registry.REGISTRATIONS_OF_NUMBER)
_SCRIPT_APPROVED = CompiledSelect(SCRIPT_APPROVED)
_DNC = CompiledSelect(dnc.MATCHING)
_DNC_ERASED = CompiledSelect(dnc.MATCHING_ERASED)
_CONSENTS = CompiledSelect(callees.CONSENTS_OF_CALLEE)
_RECENT_ALLOWED = CompiledSelect(decisions.RECENT_ALLOWED)
_CONTACT = CompiledSelect(callees.CONTACT_OF_NUMBER)


class SqliteReads:
    """:class:`FactReads` on a plain ``sqlite3`` connection: the repositories' statements,
    compiled once, and their row converters. Its coroutines never suspend."""

    def __init__(self, conn: sqlite3.Connection, number_hash: Callable[[str], str] | None) -> None:
        self._conn = conn
        self._hash = number_hash

    async def registrations(self, number: str) -> tuple[RegisteredNumber, ...]:
        require_e164(number)
        rows = _REGISTRATIONS.rows(self._conn, {"number": number})
        return tuple(registry.registration_from(row) for row in rows)

    async def industry(self, tenant: str) -> str:
        rows = _TENANT.rows(self._conn, {"name": tenant})
        return registry.tenant_from(rows[0]).industry if rows else "general"

    async def script_approved(self, tenant: str, campaign: str) -> bool:
        rows = _SCRIPT_APPROVED.rows(self._conn, {"tenant": tenant, "campaign": campaign})
        return bool(rows[0][0])

    async def dnc(
        self, number: str, tenant: str, campaign: str | None, now: datetime
    ) -> tuple[DncEntry, ...]:
        require_e164(number)
        params = {"number": number, "tenant": tenant, "campaign": campaign, "now": now}
        found = [dnc.entry_from(row) for row in _DNC.rows(self._conn, params)]
        if self._hash is not None:
            params["number_hash"] = self._hash(number)
            erased = _DNC_ERASED.rows(self._conn, params)
            found.extend(dnc.erased_entry_from(number, row) for row in erased)
        return tuple(found)

    async def consents(self, callee: str, tenant: str) -> tuple[ConsentRecord, ...]:
        require_e164(callee)
        rows = _CONSENTS.rows(self._conn, {"callee": callee, "tenant": tenant})
        return tuple(callees.consent_from(row) for row in rows)

    async def recent_allowed(
        self, callee: str, tenant: str, since: datetime
    ) -> tuple[datetime, ...]:
        require_e164(callee)
        params = {"callee": callee, "tenant": tenant, "since": since}
        return tuple(row[0] for row in _RECENT_ALLOWED.rows(self._conn, params))

    async def contact(self, number: str) -> ContactFlags | None:
        require_e164(number)
        rows = _CONTACT.rows(self._conn, {"number": number})
        return callees.contact_from(rows[0]) if rows else None


class StoreFactReader:
    """Facts through ``store.transaction()`` and the repositories (PostgreSQL, in-memory)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def lookup(
        self,
        attempt: CallAttempt,
        caller_e164: str | None,
        callee_e164: str | None,
        now: datetime,
        window: timedelta,
    ) -> Facts:
        async with self._store.transaction(readonly=True) as tx:
            return await lookup_facts(tx, attempt, caller_e164, callee_e164, now, window)

    def close(self) -> None:
        pass


class SqliteFactReader:
    """Facts from an SQLite file on one synchronous read-only connection, in the calling (event
    loop's) thread: plain ``BEGIN`` (under WAL a reader never waits for a writer), the queries,
    ``COMMIT``, with nothing in between that could suspend, so calls never interleave."""

    def __init__(self, file: SqliteFile) -> None:
        conn = sqlite3.connect(file.path, isolation_level=None)
        configure_sqlite(conn)
        _on_read_connect(conn, None)
        self._conn = conn
        key = file.subject_key
        self._reads = SqliteReads(conn, key.digest if key is not None else None)

    async def lookup(
        self,
        attempt: CallAttempt,
        caller_e164: str | None,
        callee_e164: str | None,
        now: datetime,
        window: timedelta,
    ) -> Facts:
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                facts = run_inline(
                    gather_facts(self._reads, attempt, caller_e164, callee_e164, now, window)
                )
            finally:
                conn.execute("COMMIT")  # read-only: only ends the snapshot
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc
        return facts

    def close(self) -> None:
        self._conn.close()


def fact_reader(store: Store) -> StoreFactReader | SqliteFactReader:
    """The fastest way to read facts from ``store``: inline for an SQLite file, else the store."""
    file = store.sqlite_file()
    return StoreFactReader(store) if file is None else SqliteFactReader(file)


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

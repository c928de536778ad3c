"""Everything storage knows that bears on one call attempt, gathered for the policy.

This runs for every call, inside the gate's deadline: six indexed point queries (seven with the
subject key, which also matches erased people's opt-outs by pseudonym; one more for a campaign
call) in one read-only transaction, and none of the callee's when it did not normalise.
:func:`lookup_facts` decides what is asked; a :class:`FactReads` answers it.

On an SQLite file the gate answers through :class:`SqliteFactReader`: one synchronous, read-only
``sqlite3`` connection in the event loop's thread, running the repositories' own statements
(``TENANT_BY_NAME``, ``dnc.MATCHING``, … — one definition of each rule) compiled ahead of time
to constant SQL (:mod:`~dialguard.storage.precompiled`), and the repositories' own row converters
(:mod:`~dialguard.storage.rows`). aiosqlite would hand every statement to a worker thread and
back (about ten GIL hand-offs per call), and SQLAlchemy's per-execution work costs several times
what SQLite takes to answer the query (``docs/developers/performance.md``). Nothing here imports
SQLAlchemy, so ``dialguard check`` on an SQLite file (:func:`open_sqlite_reader`) does without it.
``tests/integration/test_fact_paths.py`` runs both paths over the same data and asserts identical
facts; it is what keeps them in step. PostgreSQL keeps the repository path.
The decision log's group commits take a similar route (:mod:`dialguard.storage.decision_writer`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from ..policy.model import (
    CallAttempt,
    ConsentRecord,
    ContactFlags,
    Direction,
    DncEntry,
    Facts,
    RegisteredNumber,
)
from .errors import StorageError, describe
from .precompiled import SqliteSelect, load_call_path_sql
from .records import Tenant, require_e164
from .revision import head_revision
from .rows import (
    consent_from,
    contact_from,
    entry_from,
    erased_entry_from,
    registration_from,
    tenant_from,
)
from .sqlite_file import SqliteFile, configure_sqlite, plain_sqlite_path
from .subject_key import load_subject_key

if TYPE_CHECKING:
    from ..config import Settings
    from .store import Store, Transaction

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


_SQL = load_call_path_sql()
_REVISION = _SQL["recorded_revision"]
_HASHED_DNC_KEPT = _SQL["hashed_dnc_kept"]
_TENANT = _SQL["tenant_by_name"]
_TENANTS = _SQL["all_tenants"]
_REGISTRATIONS = _SQL["registrations_of_number"]
_SCRIPT_APPROVED = _SQL["script_approved"]
_DNC = _SQL["dnc_matching"]
_DNC_ERASED = _SQL["dnc_matching_erased"]
_CONSENTS = _SQL["consents_of_callee"]
_RECENT_ALLOWED = _SQL["recent_allowed"]
_CONTACT = _SQL["contact_of_number"]


class SqliteReads:
    """:class:`FactReads` on a plain ``sqlite3`` connection: the repositories' statements,
    compiled once, and their row converters. Its coroutines never suspend."""

    def __init__(self, conn: sqlite3.Connection, number_hash: Callable[[str], str] | None) -> None:
        self._conn = conn
        self._hash = number_hash

    async def registrations(self, number: str) -> tuple[RegisteredNumber, ...]:
        require_e164(number)
        rows = _REGISTRATIONS.rows(self._conn, {"number": number})
        return tuple(registration_from(row) for row in rows)

    async def industry(self, tenant: str) -> str:
        rows = _TENANT.rows(self._conn, {"name": tenant})
        return tenant_from(rows[0]).industry if rows else "general"

    async def script_approved(self, tenant: str, campaign: str) -> bool:
        rows = _SCRIPT_APPROVED.rows(self._conn, {"tenant": tenant, "campaign": campaign})
        return bool(rows[0][0])

    async def dnc(
        self, number: str, tenant: str, campaign: str | None, now: datetime
    ) -> tuple[DncEntry, ...]:
        require_e164(number)
        params = {"number": number, "tenant": tenant, "campaign": campaign, "now": now}
        found = [entry_from(row) for row in _DNC.rows(self._conn, params)]
        if self._hash is not None:
            params["number_hash"] = self._hash(number)
            erased = _DNC_ERASED.rows(self._conn, params)
            found.extend(erased_entry_from(number, row) for row in erased)
        return tuple(found)

    async def consents(self, callee: str, tenant: str) -> tuple[ConsentRecord, ...]:
        require_e164(callee)
        rows = _CONSENTS.rows(self._conn, {"callee": callee, "tenant": tenant})
        return tuple(consent_from(row) for row in rows)

    async def recent_allowed(
        self, callee: str, tenant: str, since: datetime
    ) -> tuple[datetime, ...]:
        require_e164(callee)
        params = {"callee": callee, "tenant": tenant, "since": since}
        return tuple(row[0] for row in _RECENT_ALLOWED.rows(self._conn, params))

    async def contact(self, number: str) -> ContactFlags | None:
        require_e164(number)
        rows = _CONTACT.rows(self._conn, {"number": number})
        return contact_from(rows[0]) if rows else None


class TenantLookup(Protocol):
    """Which tenants exist (the interface of ``tx.tenants``): what a dry run checks the tenant it
    is given against (:func:`dialguard.ops.vocabulary.check_names`)."""

    async def get(self, name: str) -> Tenant | None: ...
    async def list(self) -> tuple[Tenant, ...]: ...


class FactReader(Protocol):
    """Where the gate reads the facts of a call from (:func:`fact_reader`,
    :func:`open_sqlite_reader`); whoever opens one closes it."""

    tenants: TenantLookup

    async def lookup(
        self,
        attempt: CallAttempt,
        caller_e164: str | None,
        callee_e164: str | None,
        now: datetime,
        window: timedelta,
    ) -> Facts: ...

    def close(self) -> None: ...


class StoreTenants:
    """:class:`TenantLookup` through ``store.transaction()``, one read-only transaction each."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, name: str) -> Tenant | None:
        async with self._store.transaction(readonly=True) as tx:
            return await tx.tenants.get(name)

    async def list(self) -> tuple[Tenant, ...]:
        async with self._store.transaction(readonly=True) as tx:
            return await tx.tenants.list()


class StoreFactReader:
    """Facts through ``store.transaction()`` and the repositories (PostgreSQL, in-memory)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.tenants: TenantLookup = StoreTenants(store)

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


class SqliteTenants:
    """:class:`TenantLookup` on the call path's connection; its coroutines never suspend."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def get(self, name: str) -> Tenant | None:
        rows = self._rows(_TENANT, {"name": name})
        return tenant_from(rows[0]) if rows else None

    async def list(self) -> tuple[Tenant, ...]:
        return tuple(tenant_from(row) for row in self._rows(_TENANTS, {}))

    def _rows(self, statement: SqliteSelect, params: Mapping[str, str]) -> Sequence[Any]:
        try:
            return statement.rows(self._conn, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database error: {describe(exc)}") from exc


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
        self.tenants: TenantLookup = SqliteTenants(conn)
        self._subject_key = key

    def serves_as_a_store_would(self) -> bool:
        """Whether :meth:`Store.open <dialguard.storage.store.Store.open>` would open this file:
        its schema at this code's revision, and the subject key present if the DNC holds
        erased people's opt-outs (matched by keyed hash)."""
        try:
            revision = _REVISION.rows(self._conn, {})
            if not revision or revision[0].version_num != head_revision():
                return False
            return self._subject_key is not None or not _HASHED_DNC_KEPT.rows(self._conn, {})
        except sqlite3.Error:
            return False

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


def open_sqlite_reader(settings: Settings) -> SqliteFactReader | None:
    """A reader of the facts of calls on the SQLite file ``database.url`` names, opened without
    a :class:`~dialguard.storage.store.Store`, so without importing SQLAlchemy: for a process
    that only reads facts (``dialguard check``). None when the URL is not a plain file URL, the
    file does not exist, or a store would not open it as it is: the caller then opens a store,
    whose errors name the problem and what to do."""
    path = plain_sqlite_path(settings.database.url)
    if path is None or not path.is_file():
        return None
    subject_key = load_subject_key(Path(settings.dsr.hash_key_file))
    try:
        reader = SqliteFactReader(SqliteFile(path, subject_key))
    except sqlite3.Error:
        return None
    if reader.serves_as_a_store_would():
        return reader
    reader.close()
    return None


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

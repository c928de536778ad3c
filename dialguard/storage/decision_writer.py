"""The decision log's group commit on an SQLite file: plain ``sqlite3``, statements compiled once,
and only the durable part of each transaction off the event loop's thread.

A batch is written in two halves. On the event loop's thread, without blocking: ``BEGIN
IMMEDIATE`` (the write lock, which also serialises the audit chain), the ``decisions`` rows, the
chain's tail and the ``audit_log`` rows. Then ``COMMIT`` — the write to the WAL and its fsync under
``synchronous=FULL`` — in the writer's one commit thread, which the event loop awaits. The
``sqlite3`` module lets go of the GIL around every statement; a thread running the whole
transaction took the GIL back from the event loop after each of them, two context switches apiece,
and that hand-off cost more than the SQL (``bench/gate_alone.py``). Now one thread hop per batch
remains. When another process holds the write lock (another gate process of ``agi.workers``, the
CLI), ``BEGIN IMMEDIATE`` is tried again after a short sleep of the event loop, from 0.2 ms up to
5 ms between tries: SQLite's own busy handler would block the thread, and sleeps 10 to 100 ms
between its later tries.

Under the write lock, before inserting, the batch is settled (:mod:`.settle`): each ALLOW's
callee is re-counted (``RECENT_ALLOWED``, compiled like the call path's) with what every process
has committed, and the earlier decisions of the batch's idempotency keys are read; the rows
inserted are the settled decisions, which :meth:`SqliteDecisionWriter.write` returns.

Through SQLAlchemy a batch cost about as much Python as the SQL it ran; here the ``INSERT``
statements and the chain-tail query are compiled once (:class:`~dialguard.storage.compiled.
CompiledInsert`, :class:`~dialguard.storage.compiled.CompiledSelect`) from the same tables and
column types, and the rows come from the repositories' own builders
(:func:`~dialguard.storage.decisions.decision_row`, :func:`~dialguard.storage.audit.chain_rows`).
:meth:`SqliteDecisionWriter.write` returns only after ``COMMIT`` has returned, so no verdict goes
out before its decision is durable. ``tests/integration/test_decision_writer.py`` reads what this
writes back through the repositories and verifies the audit chain.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..policy.model import Decision
from . import audit, decision_hours, schema
from .audit import NewEntry
from .compiled import CompiledInsert, CompiledSelect
from .decisions import BY_IDEMPOTENCY_KEY, RECENT_ALLOWED, decision_from, decision_row
from .errors import StorageError, describe
from .settle import Claim, IdempotencyKey, Settled, idempotency_of, settle_batch, spans
from .sqlite_file import BUSY_TIMEOUT_MS, SqliteFile, configure_sqlite
from .store import Store

_DECISIONS = CompiledInsert(schema.decisions)
_HOURS = CompiledInsert(schema.decision_hours, decision_hours.UPSERT_SQLITE)
_AUDIT = CompiledInsert(schema.audit_log)
_AUDIT_TAIL = CompiledSelect(audit.TAIL)
_RECENT_ALLOWED = CompiledSelect(RECENT_ALLOWED)
_BY_IDEMPOTENCY_KEY = CompiledSelect(BY_IDEMPOTENCY_KEY)

LOCK_RETRY_FIRST_S = 0.0002
LOCK_RETRY_MAX_S = 0.005

EntryOfRow = Callable[[Mapping[str, Any]], NewEntry]
"""The audit entry of an inserted ``decisions`` row (:func:`.decision_log.audit_entry`)."""


class SqliteDecisionWriter:
    """Decisions and their audit entries, one transaction per :meth:`write`; the caller
    serialises calls (the decision log's single writer task)."""

    def __init__(self, file: SqliteFile) -> None:
        conn = sqlite3.connect(file.path, isolation_level=None, check_same_thread=False)
        configure_sqlite(conn)
        conn.execute("PRAGMA busy_timeout=0")  # see _begin: the event loop never blocks on it
        self._conn = conn
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="dialguard-commit")

    async def write(
        self, items: Sequence[tuple[Decision, Claim]], audit_entry: EntryOfRow
    ) -> list[Settled]:
        """Settle ``items`` under the write lock (:mod:`.settle`), insert the settled decisions
        and append ``audit_entry`` of each to the audit chain, in one transaction; return the
        settled decisions once it is durable, raise :class:`StorageError` with nothing written
        if it failed."""
        await self._begin()
        settled: list[Settled] = self._guarded(self._settle_and_insert, items, audit_entry)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._committer, self._guarded, self._commit)
        return settled

    def close(self) -> None:
        self._committer.shutdown(wait=True)
        self._conn.close()

    async def _begin(self) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = LOCK_RETRY_FIRST_S
        while not self._begin_without_waiting():
            if time.monotonic() >= deadline:
                raise StorageError(f"database is locked: no write lock within {BUSY_TIMEOUT_MS} ms")
            await asyncio.sleep(pause)
            pause = min(pause * 2, LOCK_RETRY_MAX_S)

    def _begin_without_waiting(self) -> bool:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # or an extended BUSY code
                return False
            raise StorageError(f"database error: {describe(exc)}") from exc
        return True

    def _settle_and_insert(
        self, items: Sequence[tuple[Decision, Claim]], audit_entry: EntryOfRow
    ) -> list[Settled]:
        """Under the write lock: what is stored now, the batch settled against it, inserted."""
        conn = self._conn
        stored = {
            (tenant, callee): [
                row[0]
                for row in _RECENT_ALLOWED.rows(
                    conn, {"callee": callee, "tenant": tenant, "since": since}
                )
            ]
            for (tenant, callee), since in spans(items).items()
        }
        earlier: dict[IdempotencyKey, Decision] = {}
        for decision, claim in items:
            key = idempotency_of(decision, claim)
            if key is not None and key not in earlier:
                found = _BY_IDEMPOTENCY_KEY.rows(conn, {"tenant": key[0], "key": key[1]})
                if found:
                    earlier[key] = decision_from(found[0])
        settled = settle_batch(items, stored, earlier)
        rows = [
            decision_row(done.decision, claim.idempotency_key)
            for done, (_, claim) in zip(settled, items, strict=True)
            if done.new
        ]
        self._insert(rows, audit_entry)
        return settled

    def _insert(self, rows: Sequence[Mapping[str, Any]], audit_entry: EntryOfRow) -> None:
        """The rows and their hourly roll-up, then their audit entries built from those very
        rows."""
        if not rows:
            return
        conn = self._conn
        _DECISIONS.run(conn, rows)
        _HOURS.run(conn, decision_hours.hour_counts(rows))
        (last,) = _AUDIT_TAIL.rows(conn, {}) or (None,)
        _AUDIT.run(conn, audit.chain_rows([audit_entry(row) for row in rows], last))

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _guarded(self, step: Callable[..., Any], *args: Any) -> Any:
        """Run one step of the open transaction; on any failure roll it back, and report an
        SQLite failure as :class:`StorageError`."""
        try:
            return step(*args)
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"database error: {describe(exc)}") from exc
            raise


def decision_writer(store: Store) -> SqliteDecisionWriter | None:
    """A :class:`SqliteDecisionWriter` for an SQLite file; None: use ``store.transaction()``."""
    file = store.sqlite_file()
    return None if file is None else SqliteDecisionWriter(file)

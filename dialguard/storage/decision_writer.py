"""The decision log's group commit on an SQLite file: one worker-thread hop per batch, plain
``sqlite3``, statements compiled once.

Through SQLAlchemy a batch cost about as much Python as the SQL it ran (statement caching,
parameter processing per row, result wrapping) — in a thread that holds the GIL against the event
loop. Here the ``INSERT`` statements of ``decisions`` and ``audit_log`` and the chain-tail query
are compiled once (:class:`~dialguard.storage.compiled.CompiledInsert`,
:class:`~dialguard.storage.compiled.CompiledSelect`) from the same tables and column types, the
rows come from the repositories' own builders (:func:`~dialguard.storage.decisions.decision_row`,
:func:`~dialguard.storage.audit.chain_rows`), and the transaction is the one every SQLite writer
uses: ``BEGIN IMMEDIATE`` (the write lock, which also serialises the audit chain), the inserts,
``COMMIT`` under ``synchronous=FULL``. :meth:`SqliteDecisionWriter.write` returns only after
``COMMIT`` has returned, so no waiter is resolved before its decision is durable.
``tests/integration/test_decision_writer.py`` reads what this writes back through the repositories
and verifies the audit chain.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence

from ..policy.model import Decision
from . import audit, schema
from ._common import describe
from .audit import NewEntry
from .compiled import CompiledInsert, CompiledSelect
from .decisions import decision_row
from .engine import _on_sqlite_connect
from .errors import StorageError
from .store import SqliteFile, Store

_DECISIONS = CompiledInsert(schema.decisions)
_AUDIT = CompiledInsert(schema.audit_log)
_AUDIT_TAIL = CompiledSelect(audit.TAIL)


class SqliteDecisionWriter:
    """Decisions and their audit entries, one transaction per :meth:`write`, on one connection
    used by one worker thread at a time (the caller serialises calls)."""

    def __init__(self, file: SqliteFile) -> None:
        conn = sqlite3.connect(file.path, isolation_level=None, check_same_thread=False)
        _on_sqlite_connect(conn, None)
        self._conn = conn

    async def write(
        self, decisions: Sequence[Decision], audit_entry: Callable[[Decision], NewEntry]
    ) -> None:
        """Insert ``decisions`` and append ``audit_entry`` of each to the audit chain; return once
        durable. The rows are built in the worker thread too, off the event loop's thread."""
        await asyncio.to_thread(self._write, decisions, audit_entry)

    def _write(
        self, decisions: Sequence[Decision], audit_entry: Callable[[Decision], NewEntry]
    ) -> None:
        rows = [decision_row(d) for d in decisions]
        entries = [audit_entry(d) for d in decisions]
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _DECISIONS.run(conn, rows)
                (last,) = _AUDIT_TAIL.rows(conn, {}) or (None,)
                _AUDIT.run(conn, audit.chain_rows(entries, last))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:  # COMMIT itself failed (disk full, I/O error)
                conn.execute("ROLLBACK")
            raise StorageError(f"database error: {describe(exc)}") from exc

    def close(self) -> None:
        self._conn.close()


def decision_writer(store: Store) -> SqliteDecisionWriter | None:
    """A :class:`SqliteDecisionWriter` for an SQLite file; None: use ``store.transaction()``."""
    file = store.sqlite_file()
    return None if file is None else SqliteDecisionWriter(file)

"""The cross-check of evidentiary rows against the entries that vouch for them.

While the entries are read, every evidence item they carry goes into a :class:`RowLedger`: per
(table, key) the newest digest and the entry that gave it. The ledger lives in a scratch SQLite
file, so a log of tens of millions of decisions needs disk, not memory. Then the rows are read
and each is compared: a digest that differs is an edited row, a vouched row that is gone a
deleted one, a row nobody vouched for an inserted one; a value that is not of its column's type
is named as unreadable. Problems name rows by table and key (a decision id, a row id), never by
the numbers they hold.

Which rows are read: every row, from a full verification; from an incremental one (whose ledger
holds only the entries after the last verified checkpoint), the rows those entries name plus
every row added since the last verification (``id`` above its mark). Edits to, or deletions of,
older rows that no new entry names are left to the next full verification.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..storage.evidence import (
    ORDER,
    UnreadableRow,
    evidence_table,
    key_values,
    read_row,
    rows_query,
)
from ..storage.row_digests import EVIDENCE_FIELDS, ROW_KEYS, row_digest

PAGE = 1000
"""Rows read and looked up per round trip."""


@dataclass(frozen=True)
class RowProblem:
    seq: int | None
    """The entry that vouched for the row (None: none did)."""
    row: str
    """``<table>/<key>``."""
    message: str


class RowLedger:
    """The newest evidence item per row, as the entries name them."""

    def __init__(self, directory: Path) -> None:
        self._conn = sqlite3.connect(directory / "ledger.db")
        self._conn.execute("PRAGMA journal_mode=OFF")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute(
            "CREATE TABLE vouched (tbl TEXT NOT NULL, key TEXT NOT NULL, digest TEXT,"
            " seq INTEGER NOT NULL, seen INTEGER NOT NULL DEFAULT 0,"
            " PRIMARY KEY (tbl, key)) WITHOUT ROWID"
        )
        self._pending: list[tuple[str, str, str | None, int]] = []

    def close(self) -> None:
        self._conn.close()

    def vouch(self, table: str, key: str, digest: str | None, seq: int) -> None:
        """Entries come in log order, so a later item for a row replaces an earlier one."""
        self._pending.append((table, key, digest, seq))
        if len(self._pending) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            with self._conn:  # one transaction, not one per row
                self._conn.executemany(
                    "INSERT INTO vouched (tbl, key, digest, seq) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (tbl, key) DO UPDATE SET digest = excluded.digest,"
                    " seq = excluded.seq",
                    self._pending,
                )
            self._pending = []

    def claim(self, table: str, keys: list[str]) -> dict[str, tuple[str | None, int]]:
        """What the entries say of ``keys`` (those they name), marking them as found."""
        marks = ",".join("?" * len(keys))
        found = {
            key: (digest, seq)
            for key, digest, seq in self._conn.execute(
                f"SELECT key, digest, seq FROM vouched WHERE tbl = ? AND key IN ({marks})",
                [table, *keys],
            )
        }
        self._conn.execute(
            f"UPDATE vouched SET seen = 1 WHERE tbl = ? AND key IN ({marks})", [table, *keys]
        )
        return found

    def unclaimed(self, table: str) -> Iterator[list[str]]:
        """Keys named by the entries and not yet found among the rows read, in pages."""
        keys = [
            key
            for (key,) in self._conn.execute(
                "SELECT key FROM vouched WHERE tbl = ? AND seen = 0 ORDER BY key", [table]
            )
        ]
        for start in range(0, len(keys), PAGE):
            yield keys[start : start + PAGE]

    def named(self, table: str) -> int:
        (count,) = self._conn.execute(
            "SELECT count(*) FROM vouched WHERE tbl = ?", [table]
        ).fetchone()
        return int(count)


def _compare(
    table: str,
    rows: list[tuple[str, Mapping[str, Any] | UnreadableRow]],
    ledger: RowLedger,
    problems: list[RowProblem],
) -> None:
    """Each row read against what the entries say of it."""
    said = ledger.claim(table, [key for key, _ in rows])
    for key, row in rows:
        digest, seq = said.get(key, (None, None))
        if isinstance(row, UnreadableRow):
            what = f"unreadable {row} (edited)"
        elif seq is None:
            what = "no entry vouches for it (inserted)"
        elif digest is None:
            what = f"entry {seq} recorded its deletion, yet it is there (inserted)"
        elif row_digest(table, row) != digest:
            what = f"not what entry {seq} vouched for (edited)"
        else:
            continue
        problems.append(_problem(seq, table, key, what))


def _problem(seq: int | None, table: str, key: str, what: str) -> RowProblem:
    name = f"{table}/{key}"
    return RowProblem(seq, name, f"row {name}: {what}")


def _read(table: str, raw: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | UnreadableRow]:
    key = str(raw[ROW_KEYS[table]])
    try:
        return key, read_row(table, raw)
    except UnreadableRow as exc:
        return key, exc


async def row_totals(conn: AsyncConnection, marks: Mapping[str, int], ledger: RowLedger) -> int:
    """How many rows :func:`check_rows` will read (for progress)."""
    total = 0
    for table in EVIDENCE_FIELDS:
        t = evidence_table(table)
        query = select(func.count()).select_from(t).where(t.c[ORDER] > marks.get(table, 0))
        total += int((await conn.execute(query)).scalar_one()) + ledger.named(table)
    return total


async def check_rows(
    conn: AsyncConnection,
    ledger: RowLedger,
    marks: Mapping[str, int],
    progress: Callable[[int], None],
) -> tuple[list[RowProblem], dict[str, int], int]:
    """Compare the rows added since ``marks`` and those the ledger names with the ledger.
    Returns the problems, the new marks and how many rows were read."""
    ledger.flush()
    problems: list[RowProblem] = []
    new_marks: dict[str, int] = {}
    done = 0
    for table in EVIDENCE_FIELDS:
        mark = marks.get(table, 0)
        t = evidence_table(table)
        result = await conn.stream(rows_query(table, t.c[ORDER] > mark))
        async for page in result.mappings().partitions(PAGE):
            _compare(table, [_read(table, raw) for raw in page], ledger, problems)
            mark = max(mark, *(int(raw[ORDER]) for raw in page))
            done += len(page)
            progress(done)
        new_marks[table] = mark
        done += await _named_rows(conn, table, ledger, problems)
        progress(done)
    return problems, new_marks, done


async def _named_rows(
    conn: AsyncConnection, table: str, ledger: RowLedger, problems: list[RowProblem]
) -> int:
    """The rows the entries name that were not among those read: found by key, or missing."""
    column = evidence_table(table).c[ROW_KEYS[table]]
    read = 0
    for keys in ledger.unclaimed(table):
        present = await _by_key(conn, table, column, keys)
        read += len(present)
        _compare(table, present, ledger, problems)
        found = {key for key, _ in present}
        said = ledger.claim(table, [key for key in keys if key not in found])
        for key, (digest, seq) in said.items():
            if digest is not None:
                what = f"entry {seq} vouches for it, it is gone (deleted)"
                problems.append(_problem(seq, table, key, what))
    return read


async def _by_key(
    conn: AsyncConnection, table: str, column: Any, keys: Iterable[str]
) -> list[tuple[str, Mapping[str, Any] | UnreadableRow]]:
    if ROW_KEYS[table] == ORDER:  # a key that is not a number names no row: it is gone
        keys = [key for key in keys if key.isdigit()]
    wanted = key_values(table, keys)
    rows = await conn.execute(rows_query(table, column.in_(wanted)))
    return [_read(table, raw) for raw in rows.mappings()]

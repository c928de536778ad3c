"""CompiledInsert: one multi-row INSERT per batch, split where SQLite's bound-variable limit
would be exceeded, values converted by the columns' own types."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, Table, Text

from dialguard.storage.columns import UTCDateTime
from dialguard.storage.compiled import CompiledInsert

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)
AT = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None)  # no implicit BEGIN in the trace
    try:
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER, at TEXT)"
        )
        yield connection
    finally:
        connection.close()


def _rows(n: int) -> list[dict[str, object]]:
    return [{"name": f"e{i}", "flag": i % 2 == 0, "at": AT} for i in range(n)]


def test_a_batch_is_one_statement_with_the_columns_types_applied(conn: sqlite3.Connection) -> None:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    CompiledInsert(events).run(conn, _rows(3))
    assert len(statements) == 1
    assert statements[0].count("(") == 4  # the column list and three rows
    stored = conn.execute("SELECT name, flag, at FROM events ORDER BY id").fetchall()
    assert stored == [
        ("e0", 1, "2026-11-28 09:30:00.000000"),
        ("e1", 0, "2026-11-28 09:30:00.000000"),
        ("e2", 1, "2026-11-28 09:30:00.000000"),
    ]


def test_a_batch_over_the_variable_limit_is_split_and_nothing_is_lost(
    conn: sqlite3.Connection,
) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)  # 3 columns: 3 rows a statement
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    CompiledInsert(events).run(conn, _rows(10))
    assert len(statements) == 4
    names = [name for (name,) in conn.execute("SELECT name FROM events ORDER BY id")]
    assert names == [f"e{i}" for i in range(10)]


def test_no_rows_runs_nothing(conn: sqlite3.Connection) -> None:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    CompiledInsert(events).run(conn, [])
    assert statements == []

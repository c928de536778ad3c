"""SQLAlchemy statements compiled once for SQLite and run on a plain ``sqlite3`` connection.

The decision log's group commit runs the same few statements for every batch. Through SQLAlchemy
most of each one's time is Python (cache key, parameter processing, result wrapping), not SQLite
(the figures are in ``docs/developers/performance.md``). Here the statement is compiled once, at
construction, into SQL text with ``?`` placeholders; the parameters and result columns are
converted by the processors of the very column types the repositories use
(:class:`~dialguard.storage.columns.UTCDateTime`, JSON, booleans), taken from the SQLite dialect
once. So the statement — its rule of meaning — and its value formats have one definition each,
shared with the repository path. :class:`CompiledInsert` does the same for a table's multi-row
``INSERT`` or upsert. The call path's lookups are compiled ahead of time instead
(:mod:`.precompile`), so that reading them needs no SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Select, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler

from .precompiled import Bind, Processor, SqliteSelect, positional

SQLITE_DIALECT = sqlite.dialect()


class CompiledSelect(SqliteSelect):
    """``statement`` compiled now, with SQLAlchemy's own processors for its values."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=SQLITE_DIALECT)
        results: list[tuple[int, Processor]] = []
        columns = list(statement.selected_columns)
        for index, column in enumerate(columns):
            impl = column.type.dialect_impl(SQLITE_DIALECT)
            process = impl.result_processor(SQLITE_DIALECT, None)
            if process is not None:
                results.append((index, process))
        names = [str(column.key) for column in columns]
        super().__init__(str(compiled), placeholders(compiled), results, names)


class CompiledInsert:
    """``table.insert()`` of many rows (mappings with the same keys, as SQLAlchemy's executemany
    requires), compiled once per set of keys and run as multi-row ``INSERT … VALUES (…), (…)``.

    One statement for the whole batch rather than ``executemany``: the ``sqlite3`` module lets go
    of the GIL around every step, so a row-by-row insert in the decision log's worker thread
    waits for the event loop's thread once per row; one statement waits once.
    """

    def __init__(self, table: Table, statement: Insert | None = None) -> None:
        """``statement``: an ``INSERT`` into ``table`` with a clause after its values (an
        upsert's ``ON CONFLICT …``); by default the plain ``table.insert()``."""
        self._statement = table.insert() if statement is None else statement
        self._compiled: dict[tuple[str, ...], tuple[str, list[Bind]]] = {}

    def run(self, conn: sqlite3.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        keys = tuple(rows[0])
        found = self._compiled.get(keys)
        if found is None:
            compiled = self._statement.compile(dialect=SQLITE_DIALECT, column_keys=list(keys))
            found = self._compiled[keys] = (str(compiled), placeholders(compiled))
        sql, binds = found
        head, sep, rest = sql.partition(" VALUES ")
        assert sep and rest.startswith("("), f"not an INSERT … VALUES statement: {sql}"
        values, tail = rest[: rest.index(")") + 1], rest[rest.index(")") + 1 :]
        per_statement = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(binds))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [value for row in chunk for value in positional(binds, row)]
            conn.execute(f"{head} VALUES {', '.join([values] * len(chunk))}{tail}", params)


def placeholders(compiled: SQLCompiler) -> list[Bind]:
    assert compiled.positiontup is not None, "the SQLite dialect binds by position"
    binds: list[Bind] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(SQLITE_DIALECT).bind_processor(SQLITE_DIALECT)
        if bind.required:
            binds.append((name, process))
        else:  # a literal of the statement (``verdict = 'allow'``)
            binds.append((None, process(bind.value) if process else bind.value))
    return binds

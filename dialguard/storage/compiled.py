"""SQLAlchemy statements compiled once for SQLite and run on a plain ``sqlite3`` connection.

The call path runs the same seven statements for every call. Through SQLAlchemy most of each one's
time is Python (cache key, parameter processing, result wrapping), not SQLite (the figures are in
``docs/developers/performance.md``). Here
the statement is compiled once, at construction, into SQL text with ``?`` placeholders; the
parameters and result columns are converted by the processors of the very column types the
repositories use (:class:`~dialguard.storage.schema.UTCDateTime`, JSON, booleans), taken from the
SQLite dialect once. So the statement — its rule of meaning — and its value formats have one
definition each, shared with the repository path. :class:`CompiledInsert` does the same for a
table's multi-row ``INSERT`` or upsert (the decision log's group commit).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Select, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler

_DIALECT = sqlite.dialect()
_Processor = Callable[[Any], Any]
_Bind = tuple[str | None, Any]
"""Per placeholder: (name to take from the caller, processor) or (None, constant value)."""


class CompiledSelect:
    """``statement`` as constant SQL text; :meth:`rows` runs it with named parameters."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self._binds = _binds(compiled)
        columns = list(statement.selected_columns)
        self._results: list[tuple[int, _Processor]] = []
        for index, column in enumerate(columns):
            process = column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
            if process is not None:
                self._results.append((index, process))
        names = [str(column.key) for column in columns]
        self._row: Any = namedtuple("_row", names, rename=True)  # type: ignore[misc]

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for ``params`` (by name), converted for SQLite."""
        return _positional(self._binds, params)

    def rows(self, conn: sqlite3.Connection, params: Mapping[str, Any]) -> list[Any]:
        """The result rows as named tuples (attribute access, like SQLAlchemy's rows)."""
        fetched = conn.execute(self.sql, self.parameters(params)).fetchall()
        if not self._results:
            return [self._row._make(raw) for raw in fetched]
        out = []
        for raw in fetched:
            values = list(raw)
            for index, process in self._results:
                values[index] = process(values[index])
            out.append(self._row._make(values))
        return out


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
        self._compiled: dict[tuple[str, ...], tuple[str, list[_Bind]]] = {}

    def run(self, conn: sqlite3.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        keys = tuple(rows[0])
        found = self._compiled.get(keys)
        if found is None:
            compiled = self._statement.compile(dialect=_DIALECT, column_keys=list(keys))
            found = self._compiled[keys] = (str(compiled), _binds(compiled))
        sql, binds = found
        head, sep, rest = sql.partition(" VALUES ")
        assert sep and rest.startswith("("), f"not an INSERT … VALUES statement: {sql}"
        values, tail = rest[: rest.index(")") + 1], rest[rest.index(")") + 1 :]
        per_statement = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(binds))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [value for row in chunk for value in _positional(binds, row)]
            conn.execute(f"{head} VALUES {', '.join([values] * len(chunk))}{tail}", params)


def _binds(compiled: SQLCompiler) -> list[_Bind]:
    assert compiled.positiontup is not None, "the SQLite dialect binds by position"
    binds: list[_Bind] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        if bind.required:
            binds.append((name, process))
        else:  # a literal of the statement (``verdict = 'allow'``)
            binds.append((None, process(bind.value) if process else bind.value))
    return binds


def _positional(binds: list[_Bind], params: Mapping[str, Any]) -> tuple[Any, ...]:
    values = []
    for name, process in binds:
        if name is None:
            values.append(process)
        else:
            value = params[name]
            values.append(process(value) if process is not None and value is not None else value)
    return tuple(values)

"""A SQLAlchemy ``SELECT`` compiled once for SQLite and run on a plain ``sqlite3`` connection.

The call path runs the same seven statements for every call. Through SQLAlchemy each costs about
200 µs of Python (cache key, parameter processing, result wrapping) around 20 µs of SQLite. Here
the statement is compiled once, at construction, into SQL text with ``?`` placeholders; the
parameters and result columns are converted by the processors of the very column types the
repositories use (:class:`~dialguard.storage.schema.UTCDateTime`, JSON, booleans), taken from the
SQLite dialect once. So the statement — its rule of meaning — and its value formats have one
definition each, shared with the repository path.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import sqlite

_DIALECT = sqlite.dialect()
_Processor = Callable[[Any], Any]


class CompiledSelect:
    """``statement`` as constant SQL text; :meth:`rows` runs it with named parameters."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        assert compiled.positiontup is not None, "the SQLite dialect binds by position"
        # Per placeholder: (name to take from the caller, processor) or (None, constant value).
        self._binds: list[tuple[str | None, Any]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if bind.required:
                self._binds.append((name, process))
            else:  # a literal of the statement (``verdict = 'allow'``)
                self._binds.append((None, process(bind.value) if process else bind.value))
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
        values = []
        for name, process in self._binds:
            if name is None:
                values.append(process)
            else:
                value = params[name]
                values.append(
                    process(value) if process is not None and value is not None else value
                )
        return tuple(values)

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

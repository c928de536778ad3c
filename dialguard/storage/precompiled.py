"""The call path's SQL on a plain ``sqlite3`` connection, without importing SQLAlchemy.

SQLAlchemy takes longer to import than the rest of ``dialguard check`` takes to run, and a gate
on an SQLite file needs none of it to read the facts of a call. The statements stay the
repositories' own (``registry.TENANT_BY_NAME``, ``dnc.MATCHING``, …): :mod:`.precompile` compiles
them for SQLite and writes what that gives — the SQL text, what fills each placeholder, and which
value format each parameter and result column has — to ``call_path_sql.json``. A test fails when
the file differs from what the statements compile to today, and checks each format here against
SQLAlchemy's processors for its column type; so each query keeps one definition, and each value
format one definition that the other is tested against.
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

Processor = Callable[[Any], Any]
Bind = tuple[str | None, Any]
"""Per placeholder: (name to take from the caller, processor or None) or (None, constant)."""

CALL_PATH_SQL = Path(__file__).with_name("call_path_sql.json")


class SqliteSelect:
    """A ``SELECT`` as constant SQL text with ``?`` placeholders; :meth:`rows` runs it with
    named parameters and converts the result columns."""

    def __init__(
        self,
        sql: str,
        binds: Sequence[Bind],
        results: Sequence[tuple[int, Processor]],
        columns: Sequence[str],
    ) -> None:
        self.sql = sql
        self._binds = list(binds)
        self._results = list(results)
        self._row: Any = namedtuple("_row", columns, rename=True)  # type: ignore[misc]

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for ``params`` (by name), converted for SQLite."""
        return positional(self._binds, params)

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


def positional(binds: Sequence[Bind], params: Mapping[str, Any]) -> tuple[Any, ...]:
    values = []
    for name, process in binds:
        if name is None:
            values.append(process)
        else:
            value = params[name]
            values.append(process(value) if process is not None and value is not None else value)
    return tuple(values)


def utc_datetime_bind(value: datetime) -> str:
    """An aware datetime as ``UTCDateTime`` stores it on SQLite: naive UTC text, fixed format."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware times")
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


def utc_datetime_result(value: str | None) -> datetime | None:
    if value is None:
        return None
    found = datetime.fromisoformat(value)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def date_result(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def boolean_result(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def json_result(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    return json.loads(value)


BIND_FORMATS: dict[str, Processor] = {"utc_datetime": utc_datetime_bind}
"""Parameter formats by the name ``call_path_sql.json`` gives them."""
RESULT_FORMATS: dict[str, Processor] = {
    "utc_datetime": utc_datetime_result,
    "date": date_result,
    "boolean": boolean_result,
    "json": json_result,
}
"""Result column formats by the name ``call_path_sql.json`` gives them."""


def load_call_path_sql(path: Path = CALL_PATH_SQL) -> dict[str, SqliteSelect]:
    """The precompiled statements, by the name :mod:`.precompile` gives each."""
    found = {}
    for name, spec in json.loads(path.read_text("utf-8")).items():
        binds: list[Bind] = [
            (bind["param"], BIND_FORMATS[bind["format"]] if bind["format"] else None)
            if "param" in bind
            else (None, bind["value"])
            for bind in spec["binds"]
        ]
        formats = spec["columns"]
        results = [
            (index, RESULT_FORMATS[kind]) for index, kind in enumerate(formats.values()) if kind
        ]
        found[name] = SqliteSelect(spec["sql"], binds, results, list(formats))
    return found

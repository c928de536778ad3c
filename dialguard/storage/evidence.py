"""Evidentiary rows read as stored, one way for everyone who digests them.

Audit entries vouch for rows by digest (:mod:`dialguard.storage.row_digests`). The digest is only
comparable if the writer and the verifier see the same values, so both read rows here: the
evidentiary columns selected *without* SQLAlchemy's result processing and converted by the rules
below, one row at a time. A row whose stored text is not a value of its column's type (a
hand-edited timestamp, a boolean set to 7) raises :class:`UnreadableRow` naming the column,
instead of failing the whole query: verification names that row and carries on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, Date, Select, Table, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import NullType

from .columns import UTCDateTime
from .row_digests import EVIDENCE_FIELDS, ROW_KEYS, Evidence, evidence, gone
from .schema import SCHEMA

ORDER = "id"
"""Every evidentiary table has an integer ``id``; pages and "rows added since" go by it."""
_IN_CHUNK = 500


class UnreadableRow(ValueError):
    """A stored value that is not a value of its column's type."""

    def __init__(self, column: str, why: str) -> None:
        super().__init__(f"{column}: {why}")
        self.column = column


def evidence_table(name: str) -> Table:
    if name not in EVIDENCE_FIELDS:
        raise ValueError(f"{name!r} is not an evidentiary table")
    return SCHEMA.tables[name]


def read_instant(value: Any) -> datetime:
    """A stored timestamp: SQLite's naive UTC text, or PostgreSQL's aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise TypeError(f"not a boolean: {value!r}")


def _day(value: Any) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise TypeError(f"not a date: {type(value).__name__}")


def _converter(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, UTCDateTime):
        return read_instant
    if isinstance(column_type, JSON):
        return _json
    if isinstance(column_type, Boolean):
        return _boolean
    if isinstance(column_type, Date):
        return _day
    return None


def _columns(name: str) -> tuple[str, ...]:
    fields = EVIDENCE_FIELDS[name]
    return fields if ORDER in fields else (ORDER, *fields)


def evidence_columns(name: str) -> list[Any]:
    """The evidentiary columns (and ``id``) of table ``name``, unprocessed and labelled: what
    :func:`rows_query` selects, and what a ``RETURNING`` clause gives :meth:`Changes.note_rows`."""
    table = evidence_table(name)
    return [type_coerce(table.c[column], NullType()).label(column) for column in _columns(name)]


def rows_query(name: str, *where: ColumnElement[bool]) -> Select[Any]:
    """The evidentiary columns (and ``id``) of table ``name``, unprocessed, by ``id``."""
    table = evidence_table(name)
    query: Select[Any] = select(*evidence_columns(name)).where(*where).order_by(table.c[ORDER])
    return query


@functools.cache
def _plan(name: str) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    table = evidence_table(name)
    return tuple((column, _converter(table.c[column].type)) for column in _columns(name))


def read_row(name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A row of :func:`rows_query` as the values its digest is taken over."""
    row: dict[str, Any] = {}
    for column, convert in _plan(name):
        value = raw[column]
        if value is not None and convert is not None:
            try:
                value = convert(value)
            except (TypeError, ValueError) as exc:
                raise UnreadableRow(column, str(exc)) from None
        row[column] = value
    return row


def key_values(name: str, keys: Iterable[object]) -> list[Any]:
    """``keys`` (as evidence items spell them) in the type of the table's key column."""
    if ROW_KEYS[name] == ORDER:
        return [int(str(key)) for key in keys]
    return [str(key) for key in keys]


class Changes:
    """The evidentiary rows a transaction has written so far, by table and key, in order. The
    repositories note every row they insert, update or delete; the audit entry describing the
    action takes them (:meth:`EvidenceRepository.changed`) and vouches for each as it ends up.

    A statement that writes many rows can hand over the rows themselves, as its ``RETURNING``
    of :func:`evidence_columns` gave them (:meth:`note_rows`), so they need not be read back; a
    later :meth:`note` of the same key drops that copy (the row changed again)."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, Mapping[Any, Any] | None]] = {}

    def note(self, table: str, keys: Iterable[object]) -> None:
        """Rows written by key, to be read back when the entry is made."""
        evidence_table(table)
        self._keys.setdefault(table, {}).update(dict.fromkeys(str(key) for key in keys))

    def note_rows(self, table: str, rows: Iterable[Mapping[Any, Any]]) -> None:
        """Rows written, as stored: a ``RETURNING`` of :func:`evidence_columns` of ``table``."""
        key = ROW_KEYS[table]
        self._keys.setdefault(table, {}).update((str(row[key]), row) for row in rows)

    def take(self) -> dict[str, dict[str, Mapping[Any, Any] | None]]:
        """What was noted since the last call, by table: each key with its row as written, or
        None when it must be read back."""
        taken = {table: keys for table, keys in self._keys.items() if keys}
        self._keys = {}
        return taken


class EvidenceRepository:
    """``tx.evidence``: evidence items for rows the transaction has just written."""

    def __init__(self, conn: AsyncConnection, changes: Changes) -> None:
        self._conn = conn
        self._changes = changes

    async def changed(self) -> list[Evidence]:
        """Items for every row noted as written since the last call, as each now stands (or
        deleted): what the audit entry of the action that wrote them carries in
        ``detail["evidence"]``. Add them after masking the rest of the detail: a digest is hex,
        and a run of its digits must not be taken for a phone number."""
        items: list[Evidence] = []
        for table, noted in self._changes.take().items():
            unread = [key for key, raw in noted.items() if raw is None]
            read = {item["key"]: item for item in await self.of(table, unread)}
            for key, raw in noted.items():
                items.append(read[key] if raw is None else evidence(table, read_row(table, raw)))
        return items

    async def of(self, table: str, keys: Iterable[object]) -> list[Evidence]:
        """One item per key, in order: the row's digest as it now stands in this transaction,
        or a deletion (``digest`` None) when no such row is left."""
        wanted = key_values(table, keys)
        found: dict[str, Evidence] = {}
        column = evidence_table(table).c[ROW_KEYS[table]]
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = sorted(set(wanted[start : start + _IN_CHUNK]))
            rows = await self._conn.execute(rows_query(table, column.in_(chunk)))
            for raw in rows.mappings():
                item = evidence(table, read_row(table, raw))
                found[item["key"]] = item
        return [found.get(str(key)) or gone(table, key) for key in wanted]

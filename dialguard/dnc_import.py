"""Streaming DNC list import: one number per line, CSV with a ``number`` column, or the US
National DNC Registry's flat file (``AAA,PPPPPPP``: area code, comma, seven digits, no header).

The file is read line by line and written in batches, so a 10-million-line list never needs
10 million rows in memory. Bad lines are reported with their line number and skipped; the good
ones are imported. Entries already present are left untouched, so re-importing changes nothing.
Each batch is audited in its own transaction (``dnc.import-batch``), with the evidence digest of
every row it wrote, so no imported row is ever committed without an entry vouching for it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from .numbers import InvalidNumber, normalize
from .policy.model import DncEntry, DncScope
from .storage.records import ImportCounts
from .storage.store import Store

BATCH_SIZE = 5000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (names the file and why)."""


@dataclass(frozen=True, slots=True)
class BadLine:
    line_no: int
    text: str
    reason: str


def _number_column(header: list[str], path: Path) -> int:
    names = [name.strip().lower() for name in header]
    if "number" not in names:
        raise ImportFileError(f"{path}: CSV header has no 'number' column: {header!r}")
    return names.index("number")


_REGISTRY_LINE = re.compile(r"^([0-9]{3}),([0-9]{7})$")


def read_numbers(handle: TextIO, path: Path, region: str) -> Iterator[tuple[int, str] | BadLine]:
    """Yield ``(line_no, e164)`` for each good line and a :class:`BadLine` for each bad one."""
    first = handle.readline()
    if _REGISTRY_LINE.match(first.strip()):
        yield from _registry_lines(_chain(first, handle))
        return
    is_csv = "," in first or ";" in first or first.strip().lower() == "number"
    if is_csv:
        delimiter = ";" if ";" in first and "," not in first else ","
        column = _number_column(next(csv.reader([first], delimiter=delimiter)), path)
        rows = csv.reader(handle, delimiter=delimiter)
        for offset, row in enumerate(rows):
            line_no = offset + 2
            if not row or all(not cell.strip() for cell in row):
                continue
            if column >= len(row):
                yield BadLine(line_no, ",".join(row), "no value in the 'number' column")
                continue
            yield _parse(line_no, row[column], region)
        return
    for line_no, line in enumerate(_chain(first, handle), start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            yield _parse(line_no, text, region)


def _registry_lines(lines: Iterator[str]) -> Iterator[tuple[int, str] | BadLine]:
    """The registry's numbers are US numbers whatever ``numbers.default_region`` says."""
    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        match = _REGISTRY_LINE.match(text)
        if match is None:
            yield BadLine(line_no, text[:80], "expected AAA,PPPPPPP (registry flat file)")
            continue
        yield _parse(line_no, f"+1{match[1]}{match[2]}", "US")


def _chain(first: str, rest: TextIO) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _parse(line_no: int, text: str, region: str) -> tuple[int, str] | BadLine:
    try:
        return line_no, normalize(text.strip(), region)
    except InvalidNumber as exc:
        return BadLine(line_no, text.strip()[:80], exc.why)


@dataclass(frozen=True)
class ImportTarget:
    scope: DncScope
    tenant: str | None
    source: str
    reason: str | None
    added_by: str
    expires_at: datetime | None = None


async def import_dnc(
    store: Store,
    path: Path,
    target: ImportTarget,
    region: str,
    now: datetime,
    on_bad_line: Callable[[BadLine], None],
    on_progress: Callable[[int], None] = lambda _: None,
) -> tuple[ImportCounts, int]:
    """Import ``path``; returns the counts and the number of bad lines."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{path}: {exc.strerror}") from None
    counts = ImportCounts()
    bad = 0
    batch: list[DncEntry] = []
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text:
        for item in read_numbers(text, path, region):
            if isinstance(item, BadLine):
                bad += 1
                on_bad_line(item)
                continue
            batch.append(_entry(item[1], target, now))
            if len(batch) >= BATCH_SIZE:
                counts += await _write(store, batch, target, path)
                batch = []
                on_progress(raw.tell())
        if batch:
            counts += await _write(store, batch, target, path)
        on_progress(raw.tell())
    return counts, bad


def _entry(number: str, target: ImportTarget, now: datetime) -> DncEntry:
    return DncEntry(
        number=number,
        scope=target.scope,
        tenant=target.tenant,
        campaign=None,
        source=target.source,
        reason=target.reason,
        added_at=now,
        expires_at=target.expires_at,
        added_by=target.added_by,
    )


async def _write(
    store: Store, batch: list[DncEntry], target: ImportTarget, path: Path
) -> ImportCounts:
    async with store.transaction() as tx:
        counts = await tx.dnc.add_many(batch)
        changed = await tx.evidence.changed()
        if changed:
            detail = {
                "inserted": counts.inserted,
                "unchanged": counts.already_present,
                "evidence": changed,
            }
            await tx.audit.append(target.added_by, "dnc.import-batch", str(path), detail)
    return counts

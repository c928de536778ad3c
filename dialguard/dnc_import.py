"""Reading DNC lists for import: one number per line, CSV with a ``number`` column, or the US
National DNC Registry's flat file (``AAA,PPPPPPP``: area code, comma, seven digits, no header).

The file is read line by line and :func:`dialguard.ops.dnc.import_dnc` writes it in batches, so a
10-million-line list never needs 10 million rows in memory. Bad lines are reported with their line
number and skipped; the good ones are imported. Entries already present are left untouched, so
re-importing changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .numbers import InvalidNumber, normalize


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


@contextmanager
def open_numbers(path: Path) -> Iterator[TextIO]:
    """``path`` opened for :func:`read_numbers` (UTF-8, a BOM skipped, undecodable bytes
    replaced so the line is reported bad rather than the file refused); :class:`ImportFileError`
    naming it when it cannot be opened."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{path}: {exc.strerror}") from None
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text:
        yield text


def parse_numbers(values: Sequence[str], region: str) -> Iterator[tuple[int, str] | BadLine]:
    """A list of numbers as given (the API's import body): item *n* is "line" *n*."""
    for line_no, value in enumerate(values, start=1):
        yield _parse(line_no, value, region)

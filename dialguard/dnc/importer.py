"""Reading DNC lists for import: one number per line, CSV with a ``number`` column, or the US
National DNC Registry's flat file (``AAA,PPPPPPP``: area code, comma, seven digits, no header).

The file is read line by line and :func:`dialguard.ops.dnc.import_dnc` writes it in batches, so a
10-million-line list never needs 10 million rows in memory. Bad lines are reported with their line
number and skipped; the good ones are imported. Entries already present are left untouched, so
re-importing changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..numbers import InvalidNumber, normalize


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


SNIFF_BYTES = 65536
"""How much of a file is looked at to tell a text list from something else."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def not_text(path: Path, head: bytes) -> str | None:
    """Why a file starting with ``head`` is not a UTF-8 text list (None: it looks like one):
    a UTF-16/32 export (its byte-order mark), binary data (NUL bytes), another encoding."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return f"{path}: {name} text (byte-order mark); save it as UTF-8 and import again"
    nul = head.find(b"\x00")
    if nul >= 0:
        return f"{path}: binary data (NUL byte at offset {nul}), not a text list"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return (
                f"{path}: not UTF-8 text (byte 0x{head[exc.start]:02x} at offset {exc.start}); "
                "convert it to UTF-8 (e.g. iconv -f GB18030 -t UTF-8) and import again"
            )
    return None


@contextmanager
def open_numbers(path: Path) -> Iterator[TextIO]:
    """``path`` opened for :func:`read_numbers` (UTF-8, a BOM skipped); :class:`ImportFileError`
    naming it when it cannot be opened or does not start as UTF-8 text (:func:`not_text`).
    Undecodable bytes further on are replaced, so their line is reported bad rather than the
    whole file refused."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{path}: {exc.strerror}") from None
    with raw:
        why = not_text(path, raw.read(SNIFF_BYTES))
        if why is not None:
            raise ImportFileError(why)
        raw.seek(0)
        with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text:
            yield text


def parse_numbers(values: Sequence[str], region: str) -> Iterator[tuple[int, str] | BadLine]:
    """A list of numbers as given (the API's import body): item *n* is "line" *n*."""
    for line_no, value in enumerate(values, start=1):
        yield _parse(line_no, value, region)

"""Reading national DNC lists into key arrays, vectorised with numpy.

Formats:

``ftc``
    The US National DNC Registry full-list flat file: one number a line, area code and the
    seven-digit number separated by a comma, e.g. ``201,2000000`` (LF or CRLF line ends).
``plain``
    One national number a line (``13800138000`` for the CN mobile plan, ``2012000000`` for the
    NANP), optionally with the country code (``+8613800138000``).

A full list is read in blocks of :data:`CHUNK_BYTES`. A block whose lines all have the expected
fixed width is parsed as a 2-D byte array (no Python per line); a block that does not (a bad line,
a blank line, stray spaces) is parsed line by line so that every bad line is reported with its
line number. Bad lines are never dropped silently: :func:`read_full_list` raises
:class:`DncFormatError` naming them when there are more than ``max_bad_lines``.

Change lists (the registry's daily additions and deletions, a few thousand lines) are parsed line by
line: ``NPA,NUMBER,FLAG[,...]`` for ``ftc`` and ``NUMBER,FLAG[,...]`` for ``plain``, where FLAG
is ``A``/``ADD`` (added to the registry) or ``D``/``DEL``/``DELETE`` (removed). Fields after the
flag (the registry adds a date) are ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from .format import NumberPlan

Layout = Literal["ftc", "plain"]
Keys = npt.NDArray[np.uint64]

CHUNK_BYTES = 8 << 20
MAX_REPORTED = 20
_MAX_TEXT = 80
_FLAGS = {"A": True, "ADD": True, "D": False, "DEL": False, "DELETE": False}


class DncFormatError(ValueError):
    """A list has bad lines; ``bad_lines`` holds them (the first :data:`MAX_REPORTED`)."""

    def __init__(self, path: Path, bad_count: int, bad_lines: list[BadLine]) -> None:
        self.path = path
        self.bad_count = bad_count
        self.bad_lines = bad_lines
        shown = "; ".join(f"line {b.line_no}: {b.reason}: {b.text!r}" for b in bad_lines[:5])
        super().__init__(f"{path}: {bad_count} bad line(s): {shown}")


@dataclass(frozen=True, slots=True)
class BadLine:
    line_no: int
    text: str
    reason: str


@dataclass(slots=True)
class ParseReport:
    """What reading a list found: lines read, numbers accepted, bad lines (first few kept)."""

    lines: int = 0
    numbers: int = 0
    bad_count: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)

    def add_bad(self, bad: BadLine) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < MAX_REPORTED:
            self.bad_lines.append(bad)


@dataclass(frozen=True, slots=True)
class ChangeList:
    """Keys added to and removed from a list, each in file order."""

    adds: Keys
    removes: Keys
    report: ParseReport


def _template(plan: NumberPlan, layout: Layout) -> bytes:
    if layout == "ftc":
        if plan.national_digits != 10:
            raise ValueError(f"the ftc layout is for the NANP plan, not {plan.name}")
        return b"DDD,DDDDDDD"
    return b"D" * plan.national_digits


def _line_pattern(plan: NumberPlan, layout: Layout) -> re.Pattern[str]:
    if layout == "ftc":
        return re.compile(r"\s*(\d{3})\s*,\s*(\d{7})\s*")
    return re.compile(rf"\s*(?:\+?{plan.country_code})?(\d{{{plan.national_digits}}})\s*")


class _ChunkParser:
    """Parses blocks of whole lines of one layout into keys."""

    def __init__(self, plan: NumberPlan, layout: Layout) -> None:
        self.plan = plan
        self.template = _template(plan, layout)
        self.pattern = _line_pattern(plan, layout)
        self.digit_cols = [i for i, c in enumerate(self.template) if c == ord("D")]
        self.literal_cols = [(i, c) for i, c in enumerate(self.template) if c != ord("D")]

    def parse(self, block: bytes, first_line: int, report: ParseReport) -> Keys:
        keys = self._fixed_width(block)
        if keys is None:
            keys = self._by_line(block, first_line, report)
        else:
            report.lines += len(keys)
        report.numbers += len(keys)
        return keys

    def _fixed_width(self, block: bytes) -> Keys | None:
        """Keys of a block of identical fixed-width lines, or None if the block is not one."""
        width = len(self.template)
        if len(block) <= width:
            return None
        eol = b"\r\n" if block[width : width + 2] == b"\r\n" else b"\n"
        stride = width + len(eol)
        if len(block) % stride:
            return None
        rows = np.frombuffer(block, dtype=np.uint8).reshape(-1, stride)
        for col, byte in [*self.literal_cols, *((width + i, c) for i, c in enumerate(eol))]:
            if not (rows[:, col] == byte).all():
                return None
        digits = rows - np.uint8(ord("0"))
        if (digits[:, self.digit_cols].max(axis=0) > 9).any():
            return None
        cols = self.digit_cols
        head = np.zeros(len(rows), dtype=np.uint32)
        for col in cols[:-7]:
            head *= np.uint32(10)
            head += digits[:, col]
        tail = np.zeros(len(rows), dtype=np.uint32)
        for col in cols[-7:]:
            tail *= np.uint32(10)
            tail += digits[:, col]
        national = head.astype(np.uint64) * np.uint64(10**7) + tail
        exchange = (national // np.uint64(10**4)) % np.uint64(1000)
        ok = (
            (national >= np.uint64(self.plan.low))
            & (national <= np.uint64(self.plan.high))
            & (exchange >= np.uint64(self.plan.min_exchange))
        )
        if not ok.all():
            return None
        national -= np.uint64(self.plan.key_base)
        return national

    def _by_line(self, block: bytes, first_line: int, report: ParseReport) -> Keys:
        keys: list[int] = []
        lines = block.split(b"\n")[:-1]  # a block ends with a newline
        for line_no, raw in enumerate(lines, start=first_line):
            report.lines += 1
            text = raw.decode("latin-1").rstrip("\r")
            if not text.strip():
                continue
            national = self.parse_line(text, line_no, report)
            if national is not None:
                keys.append(national - self.plan.key_base)
        return np.array(keys, dtype=np.uint64)

    def parse_line(self, text: str, line_no: int, report: ParseReport) -> int | None:
        """The national number on one line, or None after reporting the line as bad."""
        match = self.pattern.fullmatch(text)
        if match is None:
            report.add_bad(BadLine(line_no, text[:_MAX_TEXT], "not a number in this layout"))
            return None
        national = int("".join(match.groups()))
        if not self.plan.is_valid(national):
            report.add_bad(BadLine(line_no, text[:_MAX_TEXT], f"not a {self.plan.name} number"))
            return None
        return national


def _blocks(path: Path) -> Iterator[tuple[bytes, int]]:
    """Yield (block of whole lines, its first line number) from ``path``."""
    line_no = 1
    rest = b""
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield block, line_no
            line_no += block.count(b"\n")
    if rest:
        yield rest + b"\n", line_no


def read_full_list(
    path: Path, plan: NumberPlan, layout: Layout = "ftc", max_bad_lines: int = 0
) -> tuple[Keys, ParseReport]:
    """All keys of a full list (unsorted, duplicates kept) and what was found reading it.

    Raises :class:`DncFormatError` if more than ``max_bad_lines`` lines are bad. The key array is
    allocated once from the file size (every good line is at least ``national_digits + 1``
    bytes), so peak memory is 8 bytes per line plus one block's temporaries.
    """
    parser = _ChunkParser(plan, layout)
    min_line = len(parser.template) + 1
    keys: Keys = np.empty(os.path.getsize(path) // min_line + 1, dtype=np.uint64)
    report = ParseReport()
    filled = 0
    for block, first_line in _blocks(path):
        part = parser.parse(block, first_line, report)
        keys[filled : filled + len(part)] = part
        filled += len(part)
    if report.bad_count > max_bad_lines:
        raise DncFormatError(path, report.bad_count, report.bad_lines)
    return keys[:filled], report


def read_change_list(
    path: Path, plan: NumberPlan, layout: Layout = "ftc", max_bad_lines: int = 0
) -> ChangeList:
    """The additions and deletions of a change list; raises :class:`DncFormatError` as above."""
    parser = _ChunkParser(plan, layout)
    number_fields = 2 if layout == "ftc" else 1
    adds: list[int] = []
    removes: list[int] = []
    report = ParseReport()
    with path.open("r", encoding="latin-1", newline=None) as handle:
        for line_no, line in enumerate(handle, start=1):
            report.lines += 1
            fields = [f.strip() for f in line.split(",")]
            if not line.strip():
                continue
            if len(fields) <= number_fields:
                report.add_bad(BadLine(line_no, line.strip()[:_MAX_TEXT], "no change flag"))
                continue
            is_add = _FLAGS.get(fields[number_fields].upper())
            if is_add is None:
                reason = f"change flag {fields[number_fields]!r} is not A or D"
                report.add_bad(BadLine(line_no, line.strip()[:_MAX_TEXT], reason))
                continue
            national = parser.parse_line(",".join(fields[:number_fields]), line_no, report)
            if national is not None:
                report.numbers += 1
                (adds if is_add else removes).append(national - plan.key_base)
    if report.bad_count > max_bad_lines:
        raise DncFormatError(path, report.bad_count, report.bad_lines)
    return ChangeList(np.array(adds, dtype=np.uint64), np.array(removes, dtype=np.uint64), report)

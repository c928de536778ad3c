"""The gate's clock: decisions, sweeps and commands take their instant from :class:`Clock`, which
``DIALGUARD_NOW`` freezes for drills and tests. Defaults for callers that pass no instant read
the system clock directly and do not follow ``DIALGUARD_NOW`` (storage's time of an admin write
given no ``at``, the verifier's state, schema migrations, an index file's age)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo


class ClockError(ValueError):
    pass


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Instants a person may give are in ``[EARLIEST, LATEST)``: nearer the ends of Python's range,
converting an offset to UTC or adding a retention period overflows, and the databases disagree."""


_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")


def parse_instant(text: str, name: str = "time", zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 instant; without an offset it is a wall time in ``zone`` (the operator's:
    ``display.timezone``). Outside the years 1900–8999 it is refused like a malformed one,
    and an impossible date (2026-02-30) says which part is out of range, naming ``name``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{name}: {_why_not(text)}: {text!r}") from None
    value = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    try:
        in_range = EARLIEST <= value < LATEST
    except OverflowError:  # an offset that takes it past year 1 or 9999 in UTC
        in_range = False
    if not in_range:
        raise ClockError(f"{name}: {text!r} is out of range (years 1900 to 8999)")
    return value


def impossible_date(text: str) -> str | None:
    """Why ``text``, shaped like ``YYYY-MM-DD…``, names no calendar day ("day is out of range
    for month"); None when it does or is not shaped like one."""
    found = _DATE.match(text)
    if found:
        try:
            date(*(int(part) for part in found.groups()))
        except ValueError as exc:
            return str(exc)
    return None


def _why_not(text: str) -> str:
    """Why ``text`` is no instant: an impossible calendar date, or not the format at all."""
    why = impossible_date(text)
    return f"impossible date ({why})" if why else "not an ISO 8601 date/time"


@dataclass(frozen=True)
class Clock:
    frozen_at: datetime | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Clock:
        env = os.environ if environ is None else environ
        raw = env.get("DIALGUARD_NOW")
        return cls(parse_instant(raw, "DIALGUARD_NOW") if raw else None)

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def now(self) -> datetime:
        return self.frozen_at if self.frozen_at is not None else datetime.now(UTC)

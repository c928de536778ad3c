"""The filing lifecycle of an access number, as pure functions: which version of a filing is in
force at an instant, and by when a change must be reported to the regulator.

A registration is a sequence of versions (:class:`~.model.RegisteredNumber` rows, each with its
``effective_from``); the version in force at ``now`` is the latest that took effect by then. Its
``expires_on`` is a day in Beijing time: the filing is valid until that day ends there. Changes
to filed information are reported within 10 working days of the change (the CN calendar: a
working day is a weekday outside the statutory holiday periods, or a make-up working day).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .calendar import HolidayCalendar
from .model import RegisteredNumber

FILING_ZONE = ZoneInfo("Asia/Shanghai")
"""Filing dates (effective, expiry, reported) are days of the regulator's calendar."""
REPORT_WITHIN_WORKING_DAYS = 10
_EARLIEST = datetime.min.replace(tzinfo=FILING_ZONE)


def start_of(day: date) -> datetime:
    """The instant ``day`` begins in Beijing time."""
    return datetime.combine(day, time(0), tzinfo=FILING_ZONE)


def filing_day(instant: datetime) -> date:
    """The Beijing-time day of ``instant``."""
    return instant.astimezone(FILING_ZONE).date()


def expiry_instant(expires_on: date) -> datetime:
    """The first instant the filing is no longer valid: the end of ``expires_on`` in Beijing."""
    return start_of(expires_on + timedelta(days=1))


class Standing(enum.StrEnum):
    IN_FORCE = "in-force"
    NOT_YET_EFFECTIVE = "not-yet-effective"
    EXPIRED = "expired"
    INACTIVE = "inactive"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class InForce:
    standing: Standing
    version: RegisteredNumber | None
    """The version in force (also when it is expired or inactive); else the next one to come."""


def in_force(versions: Iterable[RegisteredNumber], tenant: str, now: datetime) -> InForce:
    """What ``tenant``'s filing of the number is at ``now``, given every version of it."""
    own = [v for v in versions if v.tenant == tenant]
    if not own:
        return InForce(Standing.NONE, None)
    started = [v for v in own if v.effective_from is None or v.effective_from <= now]
    if not started:
        upcoming = min(own, key=lambda v: v.effective_from or _EARLIEST)
        return InForce(Standing.NOT_YET_EFFECTIVE, upcoming)
    current = max(started, key=lambda v: v.effective_from or _EARLIEST)
    if not current.active:
        return InForce(Standing.INACTIVE, current)
    if current.expires_on is not None and now >= expiry_instant(current.expires_on):
        return InForce(Standing.EXPIRED, current)
    return InForce(Standing.IN_FORCE, current)


def is_working_day(calendar: HolidayCalendar, day: date) -> bool:
    """A make-up working day (调休), or a weekday outside every holiday period."""
    if day in calendar.workdays:
        return True
    return day.weekday() < 5 and calendar.holiday_name(day) is None


def report_deadline(
    calendar: HolidayCalendar, changed_on: date, working_days: int = REPORT_WITHIN_WORKING_DAYS
) -> date:
    """The last day a change made on ``changed_on`` may be reported: the ``working_days``-th
    working day after it (the day of the change itself does not count)."""
    day, left = changed_on, working_days
    while left:
        day += timedelta(days=1)
        if is_working_day(calendar, day):
            left -= 1
    return day


class Change(enum.StrEnum):
    FILED = "filed"
    """The registration's first version: the filing itself."""
    CHANGED = "changed"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class FilingChange:
    """One version of a registration's filing, as recorded (``numbers history``)."""

    change_id: int
    change: Change
    terms: RegisteredNumber
    """The terms from ``terms.effective_from``; ``terms.filed_on``: when this change was
    reported to the regulator (None: not yet)."""
    recorded_at: datetime
    recorded_by: str | None


@dataclass(frozen=True, slots=True)
class Overdue:
    change: FilingChange
    changed_on: date
    deadline: date
    reported_on: date | None
    """None: still not reported."""


def overdue(
    changes: Iterable[FilingChange], calendar: HolidayCalendar, today: date
) -> tuple[Overdue, ...]:
    """Changes (not first filings) reported after their deadline, or not reported and past it:
    ``changed_on`` is the Beijing day the change took effect (or was recorded, without one)."""
    found = []
    for item in changes:
        if item.change is Change.FILED:
            continue
        since = item.terms.effective_from or item.recorded_at
        changed_on = filing_day(since)
        deadline = report_deadline(calendar, changed_on)
        reported = item.terms.filed_on
        late = today > deadline if reported is None else reported > deadline
        if late:
            found.append(Overdue(item, changed_on, deadline, reported))
    return tuple(found)

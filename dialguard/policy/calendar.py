"""Statutory holiday calendar: which days belong to a holiday period, which are make-up working
days, and which years the calendar knows at all.

The shipped data comes from ``chinese-calendar`` (maintained from the State Council's yearly
notices). An operator adds years it lacks with an official calendar file::

    [years.2027]
    source = "国务院办公厅关于2027年部分节假日安排的通知"
    holidays = [{ name = "New Year's Day", from = 2027-01-01, to = 2027-01-01 }]
    workdays = [2027-02-20]

A year from the operator's file replaces the shipped data for that year entirely.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar.constants as cn_data

from ..clock import impossible_date


class CalendarError(ValueError):
    """An official calendar file that cannot be used; names the file and the entry."""


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: Mapping[date, str]
    """Every day of every statutory holiday period, weekend days inside a period included."""
    workdays: frozenset[date]
    """Make-up working days (调休): ordinary days even when they fall on a weekend."""
    years: frozenset[int]
    sources: Mapping[int, str]

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def holiday_name(self, day: date) -> str | None:
        if day in self.workdays:
            return None
        return self.holidays.get(day)

    def merged_with(self, other: HolidayCalendar) -> HolidayCalendar:
        """``other``'s years replace this calendar's same years."""
        holidays = {d: n for d, n in self.holidays.items() if d.year not in other.years}
        holidays.update(other.holidays)
        workdays = {d for d in self.workdays if d.year not in other.years} | other.workdays
        sources = {y: s for y, s in self.sources.items() if y not in other.years}
        sources.update(other.sources)
        return HolidayCalendar(holidays, frozenset(workdays), self.years | other.years, sources)


def shipped_cn_calendar() -> HolidayCalendar:
    holidays = {day: str(name) for day, name in cn_data.holidays.items()}
    workdays = frozenset(cn_data.workdays)
    years = frozenset(d.year for d in holidays)
    return HolidayCalendar(
        holidays, workdays, years, {y: "chinese-calendar package" for y in years}
    )


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            why = impossible_date(value)
            if why:
                raise CalendarError(f"{where}: impossible date {value!r} ({why})") from None
    raise CalendarError(f"{where}: expected a date (YYYY-MM-DD), got {value!r}")


def parse_calendar(data: Mapping[str, Any], origin: str) -> HolidayCalendar:
    years_table = data.get("years")
    if not isinstance(years_table, Mapping) or not years_table:
        raise CalendarError(f"{origin}: expected a [years.YYYY] table")
    holidays: dict[date, str] = {}
    workdays: set[date] = set()
    sources: dict[int, str] = {}
    for year_key, entry in years_table.items():
        where = f"{origin}: years.{year_key}"
        if not str(year_key).isdigit() or not isinstance(entry, Mapping):
            raise CalendarError(f"{where}: expected a year table such as [years.2027]")
        year = int(year_key)
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise CalendarError(f"{where}: 'source' (the official notice) is required")
        sources[year] = source
        for index, period in enumerate(entry.get("holidays", [])):
            at = f"{where}.holidays[{index}]"
            if not isinstance(period, Mapping) or not isinstance(period.get("name"), str):
                raise CalendarError(f"{at}: expected {{ name = ..., from = ..., to = ... }}")
            start = _as_date(period.get("from"), f"{at}.from")
            end = _as_date(period.get("to", period.get("from")), f"{at}.to")
            if end < start or start.year != year or end.year not in (year, year + 1):
                raise CalendarError(f"{at}: period {start}..{end} is not in {year}")
            day = start
            while day <= end:
                holidays[day] = period["name"]
                day += timedelta(days=1)
        for index, raw in enumerate(entry.get("workdays", [])):
            day = _as_date(raw, f"{where}.workdays[{index}]")
            if day in holidays:
                raise CalendarError(f"{where}.workdays[{index}]: {day} is also a holiday")
            workdays.add(day)
    return HolidayCalendar(holidays, frozenset(workdays), frozenset(sources), sources)


def load_calendar_file(path: Path) -> HolidayCalendar:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise CalendarError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CalendarError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "a calendar file is TOML, which is UTF-8"
        ) from None
    return parse_calendar(data, str(path))

"""Read-only questions the compliance console and the quarterly report ask of the decision log.

Every query is bounded by a time range and served by an index or the hourly roll-up. Counts per
hour, verdict and reason come from ``decision_hours`` (:mod:`.decision_hours`), a few rows per
hour whatever the call volume. What needs the rows themselves — latency percentiles, top denied
callers and campaigns — reads the covering ``ix_decisions_tenant_decided_at_console`` (on SQLite
the index alone; all tenants through ``tenant IN (…)``); the console asks those for the last days
of a range only. An exact callee, a caller ID, a campaign and a reason each have an index with
``decided_at``, so a rare one costs what it finds. Listings page by keyset
(``decided_at``, ``id``) rather than OFFSET, so page 500 costs what page 1 does. Hours are UTC
hours (the caller shifts them into local time): bucketing by a local zone in SQL would defeat
the index on both backends. Restricted rows (erasure under retention) are left out of every
listing, but counted in the roll-up, which names no one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.model import Decision, Verdict
from .decision_hours import hour_of
from .decisions import _decision
from .recording_records import Recording
from .recording_tables import recordings
from .recordings import _recording
from .schema import audit_log
from .schema import decision_hours as h
from .schema import decisions as t


@dataclass(frozen=True)
class DecisionFilter:
    start: datetime
    end: datetime
    """Half-open: ``start <= decided_at < end``."""
    tenant: str | None = None
    verdict: Verdict | None = None
    reason: str | None = None
    """The decision's first (deciding) reason code."""
    caller: str | None = None
    callee: str | None = None
    """E.164, exact."""
    campaign: str | None = None
    among: tuple[str, ...] = ()
    """Without ``tenant``: every tenant's name, so the per-tenant covering index serves an
    all-tenant range too (``tenant IN (…)``) instead of the rows behind ``decided_at``'s."""


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after (older than) this row."""

    decided_at: datetime
    row_id: int


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    """When the hour (or day) the decisions fall in starts (aware, UTC)."""
    verdict: str
    reason: str | None
    count: int


@dataclass(frozen=True)
class Latency:
    decided: int
    """How many decisions the percentiles are of."""
    p50_ms: float | None
    p99_ms: float | None


class ConsoleQueries:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _where(self, f: DecisionFilter) -> ColumnElement[bool]:
        terms: list[ColumnElement[bool]] = [
            t.c.decided_at >= f.start,
            t.c.decided_at < f.end,
            t.c.restricted.is_(False),
        ]
        if f.tenant is not None:
            terms.append(t.c.tenant == f.tenant)
        elif f.among:
            terms.append(t.c.tenant.in_(f.among))
        if f.verdict is not None:
            terms.append(t.c.verdict == Verdict(f.verdict).value)
        if f.reason is not None:
            terms.append(t.c.first_reason == f.reason)
        if f.caller is not None:
            terms.append(t.c.caller_e164 == f.caller)
        if f.callee is not None:
            terms.append(t.c.callee_e164 == f.callee)
        if f.campaign is not None:
            terms.append(t.c.campaign == f.campaign)
        return and_(*terms)

    def _hours(self, f: DecisionFilter) -> ColumnElement[bool]:
        """The roll-up's rows of ``f``'s tenant(s) and range (an hour counts whole when
        ``f.start`` falls inside it)."""
        where = (h.c.hour >= hour_of(f.start)) & (h.c.hour < f.end)
        if f.tenant is not None:
            return where & (h.c.tenant == f.tenant)
        if f.among:
            return where & h.c.tenant.in_(f.among)
        return where

    async def by_hour(self, f: DecisionFilter) -> list[HourCount]:
        """Decisions per UTC hour, verdict and first reason, from the hourly roll-up
        (:mod:`.decision_hours`): restricted decisions are counted too. Only the time range and
        the tenant(s) of ``f`` apply."""
        stored = type_coerce(h.c.hour, String)  # as the driver returns it: parsed once per hour
        if f.tenant is not None:  # one row per key already: summing would cost twice the read
            query = select(stored, h.c.verdict, h.c.reason, h.c.decided).where(self._hours(f))
        else:
            query = (
                select(stored, h.c.verdict, h.c.reason, func.sum(h.c.decided))
                .where(self._hours(f))
                .group_by(h.c.hour, h.c.verdict, h.c.reason)
            )
        return await self._counts(query, _as_hour)

    async def by_day(self, f: DecisionFilter, offset: timedelta) -> list[HourCount]:
        """:meth:`by_hour` summed per day of a zone ``offset`` ahead of UTC (the caller checks
        the zone keeps that offset all through the range), each day as the instant it starts:
        a long range reads one row per day and reason rather than twenty-four."""
        minutes = int(offset.total_seconds() // 60)
        if self._conn.dialect.name == "postgresql":
            shifted = func.timezone("UTC", h.c.hour) + func.make_interval(0, 0, 0, 0, 0, minutes)
            day = func.to_char(shifted, "YYYY-MM-DD")
        else:
            day = func.substr(func.datetime(h.c.hour, f"{minutes:+d} minutes"), 1, 10)
        query = (
            select(day, h.c.verdict, h.c.reason, func.sum(h.c.decided))
            .where(self._hours(f))
            .group_by(day, h.c.verdict, h.c.reason)
        )
        zone = timezone(offset)
        return await self._counts(
            query, lambda text: datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)
        )

    async def _counts(
        self, query: Select[Any], bucket: Callable[[Any], datetime]
    ) -> list[HourCount]:
        """Rows of (bucket as stored, verdict, reason, count), each bucket parsed once."""
        starts: dict[Any, datetime] = {}
        out = []
        for at, verdict, reason, n in await self._conn.execute(query):
            start = starts.get(at)
            if start is None:
                start = starts[at] = bucket(at)
            out.append(HourCount(start, verdict, reason or None, int(n)))
        return out

    async def top(self, f: DecisionFilter, column: str, limit: int = 10) -> list[tuple[str, int]]:
        """The values of ``column`` (``caller_e164``, ``campaign``) most often denied."""
        col = t.c[column]
        n = func.count().label("n")
        query = (
            select(col, n)
            .where(self._where(f) & (t.c.verdict == Verdict.DENY.value) & col.is_not(None))
            .group_by(col)
            .order_by(n.desc(), col)
            .limit(limit)
        )
        return [(str(row[0]), int(row[1])) for row in await self._conn.execute(query)]

    async def latency(self, f: DecisionFilter) -> Latency:
        """The gate's decision latency over ``f``'s rows, in one pass: decisions grouped by
        latency rounded to 0.1 ms (a few thousand groups), the percentiles read off that
        distribution."""
        bucket = func.round(t.c.latency_ms * 10).label("bucket")
        query = select(bucket, func.count()).where(self._where(f)).group_by(bucket)
        decided = 0
        spread: list[tuple[float, int]] = []
        for tenths, n in await self._conn.execute(query):
            decided += int(n)
            if tenths is not None:
                spread.append((float(tenths) / 10, int(n)))
        spread.sort()
        return Latency(decided, _percentile(spread, 0.50), _percentile(spread, 0.99))

    async def page(
        self, f: DecisionFilter, after: Cursor | None, limit: int = 50
    ) -> tuple[list[tuple[int, Decision]], Cursor | None]:
        """One page, newest first, and the cursor of the next (None on the last page)."""
        where = self._where(f)
        if after is not None:
            where = where & or_(
                t.c.decided_at < after.decided_at,
                and_(t.c.decided_at == after.decided_at, t.c.id < after.row_id),
            )
        query = (
            select(t).where(where).order_by(t.c.decided_at.desc(), t.c.id.desc()).limit(limit + 1)
        )
        rows = list(await self._conn.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        decisions = [(int(row.id), _decision(row)) for row in rows]
        if not more or not rows:
            return decisions, None
        return decisions, Cursor(rows[-1].decided_at, int(rows[-1].id))

    async def recording_of(self, decision_id: str) -> int | None:
        """The id of the recording of the call ``decision_id`` allowed, if any was ingested."""
        query = select(recordings.c.id).where(recordings.c.decision_id == decision_id)
        return (await self._conn.execute(query.order_by(recordings.c.id).limit(1))).scalar()

    async def recordings_expiring(
        self, now: datetime, until: datetime, limit: int = 200
    ) -> list[Recording]:
        """Live recordings whose retention ends between ``now`` and ``until``, soonest first
        (those on hold are kept past it, and listed by :meth:`recordings_on_hold`)."""
        r = recordings.c
        query = (
            select(recordings)
            .where(
                r.deleted_at.is_(None)
                & r.legal_hold.is_(False)
                & r.retain_until.is_not(None)
                & (r.retain_until >= now)
                & (r.retain_until < until)
            )
            .order_by(r.retain_until, r.id)
            .limit(limit)
        )
        return [_recording(row) for row in await self._conn.execute(query)]

    async def recordings_on_hold(self, limit: int = 200) -> list[Recording]:
        r = recordings.c
        query = (
            select(recordings)
            .where(r.deleted_at.is_(None) & r.legal_hold.is_(True))
            .order_by(r.hold_at, r.id)
            .limit(limit)
        )
        return [_recording(row) for row in await self._conn.execute(query)]

    async def audit_entries(self, subject: str) -> Sequence[Any]:
        """The audit entries about ``subject`` (a decision id), oldest first."""
        query = select(audit_log).where(audit_log.c.subject == subject).order_by(audit_log.c.seq)
        return list(await self._conn.execute(query))


def _percentile(spread: list[tuple[float, int]], q: float) -> float | None:
    """Nearest-rank percentile of a sorted (value, count) distribution."""
    total = sum(n for _, n in spread)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value, n in spread:
        seen += n
        if seen >= rank:
            return value
    return spread[-1][0]


def _as_hour(value: Any) -> datetime:
    """A stored hour as an aware UTC datetime: PostgreSQL's driver gives one already, SQLite
    gives its text, ``YYYY-MM-DD HH:…`` (``strptime`` costs ten times this)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    text = str(value)
    return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), tzinfo=UTC)

"""Read-only questions the compliance console and the quarterly report ask of the decision log.

Every query is bounded by a time range and served by an index: the covering
``ix_decisions_tenant_decided_at_console`` answers the overview's counts, percentiles and top
lists from the index alone on SQLite (all tenants through ``tenant IN (…)``), ``callee_e164`` an
exact callee; listings page by keyset (``decided_at``, ``id``) rather than OFFSET, so page 500
costs what page 1 does. Hours are UTC hours (the caller shifts
them into local time): bucketing by a local zone in SQL would defeat the index on both backends.
Restricted rows (erasure under retention) are left out, as in every listing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.model import Decision, Verdict
from .decisions import _decision
from .recording_records import Recording
from .recording_tables import recordings
from .recordings import _recording
from .schema import audit_log
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


@dataclass(frozen=True)
class HourCount:
    hour: datetime
    """The UTC hour (aware) the decisions fall in."""
    verdict: str
    reason: str | None
    count: int


@dataclass(frozen=True)
class GateHealth:
    decided: int
    timeouts: int
    errors: int
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

    async def by_hour(self, f: DecisionFilter) -> list[HourCount]:
        """Decisions per UTC hour, verdict and first reason."""
        hour = self._hour()
        query = (
            select(hour.label("hour"), t.c.verdict, t.c.first_reason, func.count().label("n"))
            .where(self._where(f))
            .group_by(hour, t.c.verdict, t.c.first_reason)
        )
        hours: dict[Any, datetime] = {}  # each hour's text parsed once, not once per group
        out = []
        for row in await self._conn.execute(query):
            at = hours.get(row.hour)
            if at is None:
                at = hours[row.hour] = _as_hour(row.hour)
            out.append(HourCount(at, row.verdict, row.first_reason, int(row.n)))
        return out

    def _hour(self) -> ColumnElement[Any]:
        if self._conn.dialect.name == "postgresql":
            return func.date_trunc("hour", func.timezone("UTC", t.c.decided_at))
        return func.substr(t.c.decided_at, 1, 13)  # "YYYY-MM-DD HH" of the stored UTC text

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

    async def health(self, f: DecisionFilter) -> GateHealth:
        """Counts and latency percentiles in one pass: decisions grouped by latency rounded to
        0.1 ms (a few thousand groups), the percentiles read off that distribution."""
        bucket = func.round(t.c.latency_ms * 10).label("bucket")
        gate = func.sum(case((t.c.first_reason == "gate.timeout", 1), else_=0))
        errors = func.sum(case((t.c.first_reason == "gate.error", 1), else_=0))
        query = select(bucket, func.count(), gate, errors).where(self._where(f)).group_by(bucket)
        decided = timeouts = failed = 0
        spread: list[tuple[float, int]] = []
        for tenths, n, timed_out, erred in await self._conn.execute(query):
            decided += int(n)
            timeouts += int(timed_out or 0)
            failed += int(erred or 0)
            if tenths is not None:
                spread.append((float(tenths) / 10, int(n)))
        spread.sort()
        return GateHealth(
            decided=decided,
            timeouts=timeouts,
            errors=failed,
            p50_ms=_percentile(spread, 0.50),
            p99_ms=_percentile(spread, 0.99),
        )

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
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = str(value)  # "YYYY-MM-DD HH" (strptime costs ten times this, per group)
    return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), tzinfo=UTC)

"""What the quarterly self-assessment (季度自查) asks of the store, per tenant and period.

Read-only; each answer is a count or a small table. Periods are half-open ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Text, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.model import Verdict
from .campaign_tables import campaign_scripts
from .recording_tables import recordings
from .rights_tables import dsr_requests
from .schema import decisions as d
from .schema import dnc_entries, registered_numbers


@dataclass(frozen=True)
class RetentionRow:
    retention_class: str
    min_days: int
    kept: int
    deleted: int
    deleted_early: int
    """Deleted before their ``retain_until`` (should be none: only erasure may, restricted)."""
    on_hold: int


@dataclass(frozen=True)
class DsrSummary:
    received: int
    on_time: int
    late: int
    open_overdue: int
    open_in_time: int


class QuarterlyQueries:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _period(self, tenant: str, start: datetime, end: datetime) -> ColumnElement[bool]:
        return and_(
            d.c.tenant == tenant,
            d.c.decided_at >= start,
            d.c.decided_at < end,
            d.c.restricted.is_(False),
        )

    async def outcomes(self, tenant: str, start: datetime, end: datetime) -> dict[str, int]:
        """``allow`` and each denial's first reason → count."""
        key = func.coalesce(d.c.first_reason, d.c.verdict)
        query = select(key, func.count()).where(self._period(tenant, start, end)).group_by(key)
        rows = await self._conn.execute(query)
        return {str(k): int(n) for k, n in rows}

    async def consent_coverage(
        self, tenant: str, start: datetime, end: datetime
    ) -> tuple[int, int]:
        """(allowed calls, of which with a consent reference)."""
        where = and_(self._period(tenant, start, end), d.c.verdict == Verdict.ALLOW.value)
        with_ref = func.count(d.c.consent_ref)
        row = (await self._conn.execute(select(func.count(), with_ref).where(where))).one()
        return int(row[0]), int(row[1])

    async def dnc_added(self, tenant: str, start: datetime, end: datetime) -> dict[str, int]:
        """DNC entries added in the period that bind the tenant (global or its own), by source."""
        e = dnc_entries.c
        where = and_(
            e.added_at >= start,
            e.added_at < end,
            or_(e.tenant.is_(None), e.tenant == tenant),
        )
        rows = await self._conn.execute(
            select(e.source, func.count()).where(where).group_by(e.source)
        )
        return {str(k): int(n) for k, n in rows}

    async def allowed_after_listing(self, tenant: str, start: datetime, end: datetime) -> int:
        """Allowed calls of the period to a number while it was on a DNC list binding the
        tenant (whole-number entries, global or the tenant's): the gate's DNC failures."""
        e = dnc_entries.c
        join = and_(
            e.number == d.c.callee_e164,
            e.added_at <= d.c.decided_at,
            or_(e.removed_at.is_(None), e.removed_at > d.c.decided_at),
            or_(e.expires_at.is_(None), e.expires_at > d.c.decided_at),
            or_(e.tenant.is_(None), e.tenant == d.c.tenant),
            e.campaign.is_(None),
        )
        query = (
            select(func.count(func.distinct(d.c.id)))
            .select_from(d.join(dnc_entries, join))
            .where(and_(self._period(tenant, start, end), d.c.verdict == Verdict.ALLOW.value))
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def retention(self, tenant: str, end: datetime) -> list[RetentionRow]:
        """The tenant's recordings by retention class, as of ``end``."""
        r = recordings.c
        deleted = _count_if(r.deleted_at.is_not(None))
        early = _count_if(and_(r.deleted_at.is_not(None), r.retain_until > r.deleted_at))
        held = _count_if(and_(r.deleted_at.is_(None), r.legal_hold.is_(True)))
        query = (
            select(r.retention_class, func.max(r.min_days), func.count(), deleted, early, held)
            .where((r.tenant == tenant) & (r.ingested_at < end))
            .group_by(r.retention_class)
            .order_by(r.retention_class)
        )
        out = []
        for cls, min_days, total, gone, gone_early, on_hold in await self._conn.execute(query):
            out.append(
                RetentionRow(
                    str(cls),
                    int(min_days or 0),
                    int(total) - int(gone or 0),
                    int(gone or 0),
                    int(gone_early or 0),
                    int(on_hold or 0),
                )
            )
        return out

    async def dsr(self, start: datetime, end: datetime, now: datetime) -> DsrSummary:
        """Requests received in the period (they name a person, not a tenant: all of them)."""
        t = dsr_requests.c
        rows = list(
            await self._conn.execute(
                select(t.status, t.deadline, t.completed_at).where(
                    (t.received_at >= start) & (t.received_at < end)
                )
            )
        )
        on_time = late = overdue = waiting = 0
        for status, deadline, completed in rows:
            if status == "open":
                if now > deadline:
                    overdue += 1
                else:
                    waiting += 1
            elif completed is not None and completed <= deadline:
                on_time += 1
            else:
                late += 1
        return DsrSummary(len(rows), on_time, late, overdue, waiting)

    async def scripts(self, tenant: str, start: datetime, end: datetime) -> dict[str, int]:
        """Campaign scripts registered in the period by status (refused: banned phrases)."""
        s = campaign_scripts.c
        where = (s.tenant == tenant) & (s.registered_at >= start) & (s.registered_at < end)
        rows = await self._conn.execute(
            select(s.status, func.count()).where(where).group_by(s.status)
        )
        return {str(k): int(n) for k, n in rows}

    async def filings(self, tenant: str, start: datetime, end: datetime) -> dict[str, int]:
        """The tenant's registered numbers: in total, changed in the period, without a filing
        reference (not filed with the regulator), inactive."""
        n = registered_numbers.c
        mine = n.tenant == tenant
        count = func.count()
        total = (await self._conn.execute(select(count).where(mine))).scalar_one()
        changed = (
            await self._conn.execute(
                select(count).where(mine & (n.updated_at >= start) & (n.updated_at < end))
            )
        ).scalar_one()
        unfiled = (
            await self._conn.execute(select(count).where(mine & n.filing_ref.is_(None)))
        ).scalar_one()
        inactive = (
            await self._conn.execute(select(count).where(mine & n.active.is_(False)))
        ).scalar_one()
        return {
            "numbers": int(total),
            "changed": int(changed),
            "unfiled": int(unfiled),
            "inactive": int(inactive),
        }

    async def outages(
        self, tenant: str, start: datetime, end: datetime
    ) -> list[tuple[str, str, int]]:
        """Gate failures (``gate.timeout``, ``gate.error``) per UTC day: (day, reason, count)."""
        day = func.substr(cast(d.c.decided_at, Text), 1, 10)
        where = and_(
            self._period(tenant, start, end), d.c.first_reason.in_(("gate.timeout", "gate.error"))
        )
        query = (
            select(day, d.c.first_reason, func.count())
            .where(where)
            .group_by(day, d.c.first_reason)
            .order_by(day)
        )
        return [(str(a), str(b), int(c)) for a, b, c in await self._conn.execute(query)]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))

"""The quarterly self-assessment (季度自查): what the store shows for one tenant and quarter, each
figure with the rule it evidences (:data:`RULES`).

:func:`gather` only reads (one read-only transaction, plus the audit checkpoint file); rendering
is :mod:`.render`, signing and auditing the act is :mod:`dialguard.ops.reports`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..audit.checkpoint import Checkpoint, read_checkpoints
from ..audit.verify import VerifyReport
from ..policy.calendar import HolidayCalendar
from ..policy.filings import FilingChange, filing_day, overdue
from ..storage.quarterly import DsrSummary, RetentionRow
from ..storage.store import Store

QUIET_REASONS = ("time.quiet_hours", "time.holiday", "time.calendar_missing")
OUTAGE_REASONS = ("gate.timeout", "gate.error")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = re.fullmatch(r"(\d{4})\s*-?\s*Q([1-4])", text.strip(), re.IGNORECASE)
        if match is None:
            raise ValueError(f"--quarter: expected YEARQn such as 2026Q4, got {text[:20]!r}")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next_first_day(self) -> date:
        if self.number == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.number + 1, 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Its first instant and the next quarter's, in local time ``zone``."""
        return (
            datetime.combine(self.first_day, time(), zone),
            datetime.combine(self.next_first_day, time(), zone),
        )


@dataclass(frozen=True)
class QuarterlyData:
    tenant: str
    quarter: Quarter
    zone: str
    start: datetime
    end: datetime
    generated_at: datetime
    policy_version: str
    outcomes: dict[str, int]
    consent: tuple[int, int]
    dnc_added: dict[str, int]
    allowed_after_listing: int
    retention: list[RetentionRow]
    dsr: DsrSummary
    scripts: dict[str, int]
    filings: dict[str, int]
    filings_late: int
    """Filing changes of the quarter reported late or not at all."""
    outages: list[tuple[str, str, int]]
    checkpoint: Checkpoint | None
    """The last signed checkpoint at or before the quarter's end."""
    verification: VerifyReport | None
    verification_error: str | None

    @property
    def last_day(self) -> date:
        return self.quarter.next_first_day - timedelta(days=1)

    @property
    def decided(self) -> int:
        return sum(self.outcomes.values())

    @property
    def allowed(self) -> int:
        return self.outcomes.get("allow", 0)

    @property
    def denials(self) -> list[tuple[str, int]]:
        rows = [(k, n) for k, n in self.outcomes.items() if k != "allow"]
        return sorted(rows, key=lambda item: (-item[1], item[0]))

    @property
    def quiet(self) -> list[tuple[str, int]]:
        return [(r, self.outcomes.get(r, 0)) for r in QUIET_REASONS]

    @property
    def consent_coverage(self) -> float | None:
        allowed, covered = self.consent
        return None if allowed == 0 else covered / allowed


async def gather(
    store: Store,
    tenant: str,
    quarter: Quarter,
    zone: ZoneInfo,
    *,
    now: datetime,
    policy_version: str,
    calendar: HolidayCalendar,
    checkpoint_file: Path,
    verification: VerifyReport | None,
    verification_error: str | None = None,
) -> QuarterlyData:
    start, end = quarter.bounds(zone)
    async with store.transaction(readonly=True) as tx:
        if await tx.tenants.get(tenant) is None:
            raise ValueError(f"--tenant: no tenant named {tenant!r}")
        q = tx.quarterly
        data: dict[str, Any] = {
            "outcomes": await q.outcomes(tenant, start, end),
            "consent": await q.consent_coverage(tenant, start, end),
            "dnc_added": await q.dnc_added(tenant, start, end),
            "allowed_after_listing": await q.allowed_after_listing(tenant, start, end),
            "retention": await q.retention(tenant, end),
            "dsr": await q.dsr(start, end, now),
            "scripts": await q.scripts(tenant, start, end),
            "filings": await q.filings(tenant, start, end),
            "filings_late": late_in(await tx.numbers.changes(tenant), calendar, start, end, now),
            "outages": await q.outages(tenant, start, end),
        }
    return QuarterlyData(
        tenant=tenant,
        quarter=quarter,
        zone=zone.key,
        start=start,
        end=end,
        generated_at=now,
        policy_version=policy_version,
        checkpoint=checkpoint_at(checkpoint_file, end),
        verification=verification,
        verification_error=verification_error,
        **data,
    )


def late_in(
    changes: tuple[FilingChange, ...],
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    now: datetime,
) -> int:
    """Filing changes that took effect in the quarter and were reported after their deadline,
    or are past it unreported when the report is made (``numbers overdue``)."""
    first, last = filing_day(start), filing_day(end - timedelta(microseconds=1))
    return sum(
        1 for o in overdue(changes, calendar, filing_day(now)) if first <= o.changed_on <= last
    )


def checkpoint_at(path: Path, end: datetime) -> Checkpoint | None:
    """The last checkpoint signed before ``end`` (None without a checkpoint file)."""
    if not path.exists():
        return None
    before = [c for c in read_checkpoints(path) if c.timestamp < end]
    return before[-1] if before else None

"""The Obligations page: what the operator owes by a date — data-subject requests and their
statutory deadlines, recordings whose retention ends soon or that are held past it, caller-ID
filings expiring or expired and filing changes reported late or not at all (what ``numbers
expiring`` and ``numbers overdue`` print), and the holiday calendar years the quiet-hours rule
has no data for (calls on such days are denied)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from ..ops.numbers import expiring, overdue_changes
from ..policy.filings import REPORT_WITHIN_WORKING_DAYS, expiry_instant, filing_day
from ..recording.views import recording_view
from ..rights.sensitive import masked_view, tenant_rules
from ..storage.dsr_requests import DsrStatus
from .frame import OBLIGATIONS, View, page

EXPIRING_WITHIN = timedelta(days=30)


def missing_years(covered: frozenset[int], today: date) -> list[int]:
    """Last year, this year and next: those the calendar lacks."""
    return [y for y in (today.year - 1, today.year, today.year + 1) if y not in covered]


async def obligations(view: View) -> web.StreamResponse:
    context = view.context
    now = context.clock.now()
    async with context.store.transaction(readonly=True) as tx:
        requests = await tx.dsr.list(status=DsrStatus.OPEN)
        retention_ends = await tx.console.recordings_expiring(now, now + EXPIRING_WITHIN)
        held = await tx.console.recordings_on_hold()
        rules = await tenant_rules(tx, context.gate.book)
    filings = await expiring(context.store, now, EXPIRING_WITHIN)
    late = await overdue_changes(context.store, context.gate.pack.calendar, now)
    view.subject = "obligations"

    def shown(rec: Any) -> dict[str, Any]:
        v = recording_view(rec)
        return dict(masked_view(v)) if rules.masks(rec.tenant) else v

    today = now.astimezone(view.state.zone).date()
    return view.render(
        "obligations.html",
        {
            "requests": [
                {
                    "id": r.id,
                    "kind": r.kind.value,
                    "subject": r.subject_masked,
                    "received_at": r.received_at,
                    "deadline": r.deadline,
                    "days_left": (r.deadline - now).days,
                    "overdue": r.overdue(now),
                }
                for r in requests
            ],
            "expiring": [
                shown(r) | {"days_left": (r.terms.retain_until - now).days}
                for r in retention_ends
                if r.terms.retain_until
            ],
            "held": [shown(r) for r in held],
            "filings": [
                {
                    "number": r.number,
                    "tenant": r.tenant,
                    "expires_on": r.expires_on,
                    "expired": expiry_instant(r.expires_on) <= now,
                    "days_left": (r.expires_on - filing_day(now)).days,
                }
                for r in filings
                if r.expires_on is not None
            ],
            "late": late,
            "report_within": REPORT_WITHIN_WORKING_DAYS,
            "within_days": EXPIRING_WITHIN.days,
            "missing_years": missing_years(context.gate.pack.calendar.years, today),
            "pack": context.gate.pack.policy_version,
        },
    )


ROUTES = (page("/console/obligations", OBLIGATIONS, obligations),)

"""The Obligations page: what the operator owes by a date — data-subject requests and their
statutory deadlines, recordings whose retention ends soon or that are held past it, and the
holiday calendar years the quiet-hours rule has no data for (calls on such days are denied)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

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
        expiring = await tx.console.recordings_expiring(now, now + EXPIRING_WITHIN)
        held = await tx.console.recordings_on_hold()
        rules = await tenant_rules(tx, context.gate.book)
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
                for r in expiring
                if r.terms.retain_until
            ],
            "held": [shown(r) for r in held],
            "within_days": EXPIRING_WITHIN.days,
            "missing_years": missing_years(context.gate.pack.calendar.years, today),
            "pack": context.gate.pack.policy_version,
        },
    )


ROUTES = (page("/console/obligations", OBLIGATIONS, obligations),)

"""The console's Overview and Decisions pages (Obligations: :mod:`.obligations`; Evidence:
:mod:`.evidence`). Each reads through :class:`~dialguard.storage.console.ConsoleQueries` in one
read-only transaction and shows numbers as the API does: caller and callee of a tenant whose
rule pack marks its data sensitive are masked (:mod:`dialguard.rights.sensitive`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from ..gate.verdict import GATE_ERROR, GATE_TIMEOUT
from ..numbers import mask, normalize
from ..policy.model import Verdict
from ..recording.views import recording_view
from ..rights.sensitive import masked_view, tenant_rules
from ..storage.console import Cursor, DecisionFilter, HourCount
from ..storage.recording_records import Recording
from ..views import decision_view
from .frame import AUDITORS, OVERVIEW, View, page

MAX_DAYS = 366
RECENT = timedelta(days=7)
"""How far back from a range's end the overview reads decision rows (latency, top lists); its
counts come from the hourly roll-up, whatever the range."""
HOURLY_UP_TO_DAYS = 2
PAGE_SIZE = 50


@dataclass(frozen=True)
class Range:
    first: date
    last: date
    """Inclusive local days."""
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone)

    @property
    def hourly(self) -> bool:
        return (self.last - self.first).days < HOURLY_UP_TO_DAYS

    @property
    def offset(self) -> timedelta | None:
        """The zone's offset from UTC if it is the same all through the range (no daylight
        saving change in it), else None."""
        offsets = {
            datetime.combine(self.first + timedelta(days=n), time(), self.zone).utcoffset()
            for n in range((self.last - self.first).days + 2)
        }
        return offsets.pop() if len(offsets) == 1 else None


def local_range(query: Any, zone: ZoneInfo, now: datetime, default_days: int = 7) -> Range:
    today = now.astimezone(zone).date()
    last = _day(query.get("to"), "to") or today
    first = _day(query.get("from"), "from") or last - timedelta(days=default_days - 1)
    if first > last:
        raise ValueError("from: must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"from/to: at most {MAX_DAYS} days at a time")
    return Range(first, last, zone)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: expected a date YYYY-MM-DD, got {text[:40]!r}") from None


def _tenant(query: Any, names: list[str]) -> str | None:
    tenant = query.get("tenant") or None
    if tenant is not None and tenant not in names:
        raise ValueError(f"tenant: no tenant named {tenant[:64]!r}")
    return tenant


def stacked_chart(rows: list[HourCount], span: Range) -> dict[str, Any]:
    """Denials per local hour (short ranges) or day, one dataset per reason, every bucket of the
    range present (zeros included) so the x axis is time, not only the busy buckets. ``rows``
    are hours, or days when the range is long."""
    if span.hourly:
        step, fmt = timedelta(hours=1), "%m-%d %H:00"
    else:
        step, fmt = timedelta(days=1), "%Y-%m-%d"
    labels: list[str] = []
    at = span.start
    while at < span.end:
        labels.append(at.astimezone(span.zone).strftime(fmt))
        at += step
    index = {label: i for i, label in enumerate(labels)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(labels))
    slots: dict[datetime, int | None] = {}  # each hour's bucket found once, not once per row
    for row in rows:
        if row.verdict != Verdict.DENY.value:
            continue
        if row.hour not in slots:
            slots[row.hour] = index.get(row.hour.astimezone(span.zone).strftime(fmt))
        slot = slots[row.hour]
        if slot is not None:
            series[row.reason or "(none)"][slot] += row.count
    ordered = sorted(series.items(), key=lambda item: -sum(item[1]))
    return {
        "labels": labels,
        "datasets": [{"label": reason, "data": data} for reason, data in ordered],
    }


def recent(f: DecisionFilter) -> DecisionFilter:
    """The last :data:`RECENT` of ``f``'s range: what the overview reads decision rows for."""
    return replace(f, start=max(f.start, f.end - RECENT))


async def overview(view: View) -> web.StreamResponse:
    context = view.context
    query = view.request.query
    span = local_range(query, view.state.zone, context.clock.now())
    async with context.store.transaction(readonly=True) as tx:
        names = [t.name for t in await tx.tenants.list()]
        tenant = _tenant(query, names)
        f = DecisionFilter(span.start, span.end, tenant=tenant, among=tuple(names))
        offset = span.offset
        if span.hourly or offset is None:
            rows = await tx.console.by_hour(f)
        else:
            rows = await tx.console.by_day(f, offset)
        latest = recent(f)
        latency = await tx.console.latency(latest)
        callers = await tx.console.top(latest, "caller_e164")
        campaigns = await tx.console.top(latest, "campaign")
        rules = await tenant_rules(tx, context.gate.book)
    view.subject = tenant or "*"
    masking = rules.masks(tenant) if tenant else bool(rules.by_tenant)
    allowed = sum(r.count for r in rows if r.verdict == Verdict.ALLOW.value)
    denied = sum(r.count for r in rows if r.verdict == Verdict.DENY.value)
    by_reason: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.verdict == Verdict.DENY.value:
            by_reason[r.reason or "(none)"] += r.count
    chart = stacked_chart(rows, span)
    return view.render(
        "overview.html",
        {
            "tenants": names,
            "tenant": tenant,
            "span": span,
            "decided": allowed + denied,
            "allowed": allowed,
            "denied": denied,
            "reasons": sorted(by_reason.items(), key=lambda item: -item[1]),
            "timeouts": by_reason.get(GATE_TIMEOUT, 0),
            "errors": by_reason.get(GATE_ERROR, 0),
            "latency": latency,
            "recent_from": latest.start.astimezone(span.zone),
            "recent_days": RECENT.days,
            "callers": [(mask(c) if masking else c, n) for c, n in callers],
            "campaigns": campaigns,
            "chart_json": json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"),
        },
    )


def decision_filter(query: Any, names: list[str], span: Range, region: str) -> DecisionFilter:
    verdict = query.get("verdict") or None
    if verdict is not None and verdict not in {v.value for v in Verdict}:
        raise ValueError("verdict: expected allow or deny")
    return DecisionFilter(
        span.start,
        span.end,
        tenant=_tenant(query, names),
        verdict=Verdict(verdict) if verdict else None,
        reason=(query.get("reason") or "").strip()[:64] or None,
        caller=_number(query.get("caller"), "caller", region),
        callee=_number(query.get("callee"), "callee", region),
        campaign=(query.get("campaign") or "").strip()[:128] or None,
    )


def _number(text: str | None, name: str, region: str) -> str | None:
    if not text or not text.strip():
        return None
    try:
        return normalize(text.strip(), region)
    except ValueError:
        raise ValueError(f"{name}: not a valid phone number") from None


def _cursor(text: str | None) -> Cursor | None:
    if not text:
        return None
    stamp, _, row = text.rpartition("~")
    try:
        return Cursor(datetime.fromisoformat(stamp), int(row))
    except ValueError:
        raise ValueError("after: not a page cursor") from None


async def decisions(view: View) -> web.StreamResponse:
    context = view.context
    query = view.request.query
    span = local_range(query, view.state.zone, context.clock.now())
    async with context.store.transaction(readonly=True) as tx:
        names = [t.name for t in await tx.tenants.list()]
        f = decision_filter(query, names, span, context.region)
        found, more = await tx.console.page(f, _cursor(query.get("after")), PAGE_SIZE)
        rules = await tenant_rules(tx, context.gate.book)
    view.subject = f.tenant or "*"
    view.number = f.callee or f.caller
    shown = [rules.view(d.attempt.tenant, decision_view(d)) for _, d in found]
    params = {k: v for k, v in query.items() if k != "after" and v}
    next_query = None
    if more is not None:
        params["after"] = f"{more.decided_at.isoformat()}~{more.row_id}"
        next_query = "&".join(f"{k}={_quote(v)}" for k, v in params.items())
    return view.render(
        "decisions.html",
        {
            "tenants": names,
            "filter": f,
            "span": span,
            "query": query,
            "rows": shown,
            "next_query": next_query,
            "first_page": "after" not in query,
        },
    )


def _quote(value: str) -> str:
    return quote(value, safe="")


async def decision(view: View) -> web.StreamResponse:
    context = view.context
    decision_id = view.request.match_info["decision_id"][:64]
    view.subject = decision_id
    async with context.store.transaction(readonly=True) as tx:
        found = await tx.decisions.get(decision_id)
        if found is None:
            message = f"no decision {decision_id!r} (or it is restricted after an erasure)"
            return view.render("error.html", {"title": "Not found", "message": message}, 404)
        rules = await tenant_rules(tx, context.gate.book)
        tenant = await tx.tenants.get(found.attempt.tenant)
        entries = await tx.console.audit_entries(decision_id)
        recording_id = await tx.console.recording_of(decision_id)
        recording = None if recording_id is None else await tx.recordings.get(recording_id)
    industry = tenant.industry if tenant is not None else "general"
    callee = found.callee
    selection = context.gate.book.explain(industry, callee, found.decided_at.date())
    pack = selection.pack
    explanation = {
        "policy_version": pack.policy_version,
        "recorded": found.policy_version,
        "industry": industry,
        "region": "/".join(p for p in (selection.region, selection.subdivision) if p) or "—",
        "layers": [f"{f.name} {f.version} (from {f.effective_from})" for f in selection.files],
        "parameters": [
            (k, json.dumps(v, default=str, ensure_ascii=False), pack.sources[k])
            for k, v in pack.parameters.items()
        ],
    }
    shown = rules.view(found.attempt.tenant, decision_view(found))
    masking = rules.masks(found.attempt.tenant)
    return view.render(
        "decision.html",
        {
            "d": shown,
            "explanation": explanation,
            "entries": [_entry(e) for e in entries],
            "recording": None if recording is None else _recording(recording, masking),
        },
    )


def _recording(rec: Recording, masking: bool) -> dict[str, Any]:
    shown = recording_view(rec)
    return dict(masked_view(shown)) if masking else shown


def _entry(row: Any) -> dict[str, Any]:
    """Audit entries hold numbers masked already (they are written so)."""
    detail = json.loads(row.detail)
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "hash": row.hash,
        "detail": json.dumps(detail, ensure_ascii=False, indent=1)[:4000],
    }


ROUTES = (
    page("/console/", OVERVIEW, overview),
    page("/console/decisions", AUDITORS, decisions),
    page("/console/decisions/{decision_id}", AUDITORS, decision),
)

"""The console's quarterly report page: the same signed report as ``dialguard report quarterly``
(:func:`dialguard.ops.reports.quarterly_report`, audited as ``report.quarterly``), made on a
click and offered for download with its detached signatures. Reports made are kept in this
process's memory (the last :data:`KEEP`) until ``serve`` stops."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from datetime import datetime
from typing import Any

from aiohttp import web

from ..api.endpoint import actor_of
from ..ops.audited import Actor
from ..ops.reports import ReportFiles, quarterly_report
from .frame import AUDITORS, HEADERS, View, page, see_other

KEEP = 20
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".sig": "application/json",
}


def current_quarter(now: datetime) -> str:
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def _made(view: View) -> OrderedDict[str, tuple[str, ReportFiles]]:
    made = view.state.jobs.setdefault("reports", OrderedDict())
    assert isinstance(made, OrderedDict)
    return made


async def report_form(view: View) -> web.StreamResponse:
    context = view.context
    async with context.store.transaction(readonly=True) as tx:
        tenants = [t.name for t in await tx.tenants.list()]
    view.subject = "report"
    made = _made(view)
    local = context.clock.now().astimezone(view.state.zone)
    shown: list[dict[str, Any]] = [
        {"id": rid, "by": by, "stem": files.stem, "names": sorted(files.files)}
        for rid, (by, files) in reversed(made.items())
    ]
    return view.render(
        "report.html",
        {"tenants": tenants, "quarter": current_quarter(local), "made": shown},
    )


async def make_report(view: View) -> web.StreamResponse:
    form = await view.request.post()
    tenant = str(form.get("tenant", ""))
    quarter = str(form.get("quarter", ""))
    view.subject = f"{tenant}/{quarter}"[:100]
    try:
        files = await make(view, tenant, quarter, form)
    except RuntimeError as exc:  # PDF rendering unavailable on this host
        return view.render("error.html", {"title": "Unavailable", "message": str(exc)}, 503)
    made = _made(view)
    rid = secrets.token_urlsafe(9)
    made[rid] = (view.principal.name, files)
    while len(made) > KEEP:
        made.popitem(last=False)
    return see_other(f"/console/report#r-{rid}")


async def make(view: View, tenant: str, quarter: str, form: Any) -> ReportFiles:
    context = view.context
    return await quarterly_report(
        context.store,
        Actor(actor_of(view.principal), context.clock.now(), context.region),
        context.settings,
        tenant=tenant,
        quarter=quarter,
        lang=str(form.get("lang", "zh")),
        zone=view.state.zone,
        policy_version=context.gate.pack.policy_version,
        calendar=context.gate.pack.calendar,
        pdf=form.get("pdf") == "1",
    )


async def download(view: View) -> web.StreamResponse:
    rid = view.request.match_info["rid"]
    name = view.request.match_info["name"]
    view.subject = name[:100]
    found = _made(view).get(rid)
    if found is None or name not in found[1].files:
        message = "no such report here (reports are kept until the gate restarts)"
        return view.render("error.html", {"title": "Not found", "message": message}, 404)
    kind = TYPES.get(name[name.rfind(".") :], "application/octet-stream")
    headers = {
        **HEADERS,
        "Content-Type": kind,
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    return web.Response(body=found[1].files[name], headers=headers)


ROUTES = (
    page("/console/report", AUDITORS, report_form),
    page("/console/report", AUDITORS, make_report, method="POST"),
    page("/console/report/{rid}/{name}", AUDITORS, download),
)

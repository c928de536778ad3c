"""Mounts the console on the API's aiohttp application: ``/console/`` (pages), ``/console/static/``
(CSS, the page script and the vendored Chart.js), ``/console/login`` and ``/console/logout``.

Signing in takes an API token (any role; each page then admits the roles its data is for). A
refused sign-in is logged (masked) but, like a request without a valid token on the API, not
written to the audit log: it names nobody. A successful one is audited as ``POST /console/login``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ..api.context import ApiContext
from ..api.endpoint import actor_of
from ..ops.access import record_request
from ..ops.audited import Actor
from ..storage.token_records import Role
from ..tokens.tokens import authenticate as token_for
from . import evidence, obligations, pages, report
from .filters import FILTERS
from .frame import CONSOLE, ConsoleState, View, page, render, see_other
from .sessions import COOKIE, IDLE_S, Sessions

log = logging.getLogger("dialguard.console")

STATIC = Path(__file__).parent / "static"


def add_console(app: web.Application, context: ApiContext) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("dialguard.console", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    zone = ZoneInfo(context.gate.pack.default_time_zones[0])
    app[CONSOLE] = ConsoleState(context, Sessions(), zone)
    app.on_cleanup.append(evidence.stop_jobs)
    app.router.add_routes(
        [
            web.get("/console", _to_console),
            web.get("/console/login", _login_form),
            web.post("/console/login", _login),
            page("/console/logout", frozenset(Role), _logout, method="POST"),
            *pages.ROUTES,
            *obligations.ROUTES,
            *evidence.ROUTES,
            *report.ROUTES,
        ]
    )
    app.router.add_static("/console/static/", STATIC, name="console_static")


async def _to_console(request: web.Request) -> web.StreamResponse:
    return see_other("/console/")


async def _login_form(request: web.Request) -> web.StreamResponse:
    return render(request, "login.html", {"error": None, "next": _next(request)})


async def _login(request: web.Request) -> web.StreamResponse:
    state = request.app[CONSOLE]
    context = state.context
    form = await request.post()
    secret = str(form.get("token", "")).strip()
    target = _next(request, str(form.get("next", "")))
    principal = await token_for(context.store, secret, now=context.clock.now()) if secret else None
    if principal is None:
        fields = {"client": request.remote or "", "path": request.path}
        log.warning("console: sign-in refused (401)", extra={"fields": fields})
        values = {"error": "invalid or revoked API token", "next": target}
        return render(request, "login.html", values, status=401)
    sid, _ = state.sessions.open(secret)
    await record_request(
        context.store,
        Actor(actor_of(principal), context.clock.now(), context.region),
        principal,
        method="POST",
        route="/console/login",
        status=303,
    )
    response = see_other(target)
    response.set_cookie(
        COOKIE,
        sid,
        path="/console/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        max_age=IDLE_S,
    )
    return response


async def _logout(view: View) -> web.StreamResponse:
    view.state.sessions.close(view.request.cookies.get(COOKIE))
    response = see_other("/console/login")
    response.del_cookie(COOKIE, path="/console/")
    return response


def _next(request: web.Request, given: str | None = None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    target = given if given is not None else request.query.get("next", "")
    if target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"

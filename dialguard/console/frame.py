"""What every console page shares: the signed-in token, its role check, CSRF, rendering, and one
audit entry per request — the same ``api.request`` entry the API writes
(:mod:`dialguard.ops.access`), with the page's route, so an auditor reads console and API use in
one log.

A page is ``page(route, roles, handler)``: the wrapper finds the session (no session: to the
sign-in page), authenticates its token again (revoked: signed out), checks the role (403 page),
checks the CSRF field on a POST, runs the handler, then audits (who, method, route, what it was
about, the status). If the audit entry cannot be written the page is not shown (503).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from ..api.context import ApiContext
from ..api.endpoint import actor_of
from ..ops.access import record_request
from ..ops.audited import Actor
from ..storage.errors import StorageError
from ..storage.store import MissingSubjectKey
from ..storage.token_records import Role
from ..tokens.tokens import Token
from ..tokens.tokens import authenticate as token_for
from .sessions import COOKIE, Session, Sessions

log = logging.getLogger("dialguard.console")

AUDITORS = frozenset({Role.ADMIN, Role.AUDITOR})
OVERVIEW = frozenset({Role.ADMIN, Role.AUDITOR, Role.OPERATOR})
OBLIGATIONS = frozenset({Role.ADMIN, Role.AUDITOR, Role.DSR})

NAV: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("Overview", "/console/", OVERVIEW),
    ("Decisions", "/console/decisions", AUDITORS),
    ("Obligations", "/console/obligations", OBLIGATIONS),
    ("Evidence", "/console/evidence", AUDITORS),
    ("Quarterly report", "/console/report", AUDITORS),
)

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class ConsoleState:
    context: ApiContext
    sessions: Sessions
    zone: ZoneInfo
    """Local time of the console's pages (the default pack's first time zone)."""
    jobs: dict[str, Any] = field(default_factory=dict)
    """Background work started from a page (the audit verification)."""


CONSOLE = web.AppKey("dialguard_console", ConsoleState)


@dataclass
class View:
    request: web.Request
    state: ConsoleState
    principal: Token
    session: Session
    subject: str = ""
    """What the request was about, for the audit entry (a decision id, a tenant)."""
    number: str | None = None
    """A person's E.164 number it was about (audited by pseudonym)."""

    @property
    def context(self) -> ApiContext:
        return self.state.context

    def render(self, template: str, values: Mapping[str, Any], status: int = 200) -> web.Response:
        return render(self.request, template, {**values, **self.frame()}, status)

    def frame(self) -> dict[str, Any]:
        role = self.principal.role
        return {
            "who": f"{self.principal.name} ({role.value})",
            "csrf": self.session.csrf,
            "nav": [(name, href) for name, href, roles in NAV if role in roles],
            "path": self.request.path,
            "zone": self.state.zone.key,
            "tz": self.state.zone,
        }


Handler = Callable[[View], Awaitable[web.StreamResponse]]


def see_other(location: str) -> web.Response:
    """A redirect after a form (returned, not raised: the API's error middleware would turn a
    raised one into a JSON error)."""
    return web.Response(status=303, headers={**HEADERS, "Location": location})


def render(
    request: web.Request, template: str, values: Mapping[str, Any], status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, dict(values), status=status)
    response.headers.update(HEADERS)
    return response


def page(route: str, roles: frozenset[Role], handler: Handler, method: str = "GET") -> web.RouteDef:
    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[CONSOLE]
        context = state.context
        sid = request.cookies.get(COOKIE)
        session = state.sessions.get(sid)
        principal = None
        if session is not None:
            principal = await token_for(context.store, session.secret, now=context.clock.now())
            if principal is None:
                state.sessions.close(sid)
        if session is None or principal is None:
            return see_other(f"/console/login?next={quote(request.path_qs, safe='')}")
        view = View(request, state, principal, session)
        response = await _run(view, roles, handler, method)
        try:
            await record_request(
                context.store,
                Actor(actor_of(principal), context.clock.now(), context.region),
                principal,
                method=method,
                route=route,
                status=response.status,
                subject=view.subject,
                number=view.number,
            )
        except (StorageError, MissingSubjectKey) as exc:
            log.warning("console: audit entry not written", extra={"fields": {"error": str(exc)}})
            return web.Response(status=503, text="audit log unavailable; retry", headers=HEADERS)
        return response

    handle.__name__ = handler.__name__
    return web.route(method, route, handle)


async def _run(
    view: View, roles: frozenset[Role], handler: Handler, method: str
) -> web.StreamResponse:
    if view.principal.role not in roles:
        message = f"role {view.principal.role.value!r} may not open {view.request.path}"
        return view.render("error.html", {"title": "Forbidden", "message": message}, 403)
    if method == "POST":
        form = await view.request.post()
        if form.get("csrf") != view.session.csrf:
            message = "the form expired; reload the page and try again"
            return view.render("error.html", {"title": "Forbidden", "message": message}, 403)
    try:
        return await handler(view)
    except ValueError as exc:  # bad filter input names what was wrong
        return view.render("error.html", {"title": "Bad request", "message": str(exc)}, 400)

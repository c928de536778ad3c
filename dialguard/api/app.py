"""``create_app(context)``: the aiohttp application, built from the endpoint list in
:mod:`dialguard.api.routes`.

Each endpoint's handler is wrapped in the same steps, in order: authenticate the bearer token,
authorise its role for the endpoint's access class, parse the declared inputs, run the handler,
and write one audit entry (who, method + route + subject, result status) — reads too.

Which requests reach the tamper-evident log: every request made with a valid token, whatever its
outcome (403s included), and every accepted opt-out (written by its handler, in the same
transaction as the DNC entry). Requests without a valid token and throttled opt-outs are logged
(masked) instead: they name nobody, and letting them into the hash chain would let anyone grow
it. If the audit entry cannot be written the client gets a 503, never an unaudited answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..ops.access import record_request
from ..ops.audited import Actor, Invalid
from ..storage.errors import StorageError
from ..storage.store import MissingSubjectKey
from ..tokens.tokens import Token
from .access import Access, allows
from .auth import authenticate
from .context import ApiContext
from .endpoint import Call, Endpoint, actor_of
from .errors import ApiError, from_http
from .fields import json_object, query, read
from .metrics import add_metrics_route
from .openapi import OPENAPI, document
from .routes import ENDPOINTS

log = logging.getLogger("dialguard.api")

MAX_BODY_BYTES = 64 * 1024

RawHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(context: ApiContext) -> web.Application:
    app = web.Application(middlewares=[_errors_as_json], client_max_size=MAX_BODY_BYTES)
    app[OPENAPI] = document(ENDPOINTS)
    app.router.add_routes(
        [web.route(e.method, e.path, _wrap(e, context), name=e.operation_id) for e in ENDPOINTS]
    )
    add_metrics_route(app, context)
    return app


def error_response(exc: BaseException) -> web.Response:
    """Any exception a handler may raise, as our JSON error (500s are logged with traceback)."""
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, web.HTTPException):
        return from_http(exc).response()
    if isinstance(exc, MissingSubjectKey):
        log.error("api: %s", exc)
        return ApiError(503, "unavailable", str(exc)).response()
    if isinstance(exc, StorageError):
        log.warning("api: database unavailable", extra={"fields": {"error": str(exc)}})
        return ApiError(503, "unavailable", "the database is unavailable; retry").response()
    if isinstance(exc, Invalid):
        return ApiError(400, "invalid_field", str(exc), exc.field).response()
    if isinstance(exc, ValueError):  # library input errors name what was wrong
        return ApiError(400, "invalid_request", str(exc)).response()
    log.error("api: unexpected error", exc_info=exc)
    return ApiError(500, "internal", "internal error (logged)").response()


@web.middleware
async def _errors_as_json(request: web.Request, handler: RawHandler) -> web.StreamResponse:
    """Routing errors (unknown path, wrong method) happen before any endpoint wrapper runs."""
    try:
        return await handler(request)
    except Exception as exc:
        return error_response(exc)


def _wrap(endpoint: Endpoint, context: ApiContext) -> RawHandler:
    async def handle(request: web.Request) -> web.StreamResponse:
        principal: Token | None = None
        call: Call | None = None
        try:
            if endpoint.access is not Access.PUBLIC:
                principal = await authenticate(context, request)
                _authorise(endpoint, principal)
            if endpoint.guard is not None:
                endpoint.guard(request, context)
            call = await _parse(endpoint, context, request, principal)
            response = await endpoint.handler(call)
        except Exception as exc:
            response = error_response(exc)
        if endpoint.audited and principal is not None:
            try:
                await _audit(context, endpoint, principal, call, response.status)
            except (StorageError, MissingSubjectKey) as exc:
                return error_response(exc)
        return response

    handle.__name__ = endpoint.operation_id
    return handle


def _authorise(endpoint: Endpoint, principal: Token) -> None:
    if not allows(endpoint.access, principal.role):
        message = f"role {principal.role.value!r} may not {endpoint.method} {endpoint.path}"
        raise ApiError(403, "forbidden", message)


async def _parse(
    endpoint: Endpoint, context: ApiContext, request: web.Request, principal: Token | None
) -> Call:
    region = context.region
    params = read(endpoint.path_params, dict(request.match_info), region)
    params.update(read(endpoint.query, query(request), region))
    body = {}
    if endpoint.body is not None:
        body = read(endpoint.body, await json_object(request), region)
    return Call(request, context, principal, params, body)


async def _audit(
    context: ApiContext, endpoint: Endpoint, principal: Token, call: Call | None, status: int
) -> None:
    await record_request(
        context.store,
        Actor(actor_of(principal), context.clock.now(), context.region),
        principal,
        method=endpoint.method,
        route=endpoint.path,
        status=status,
        subject=call.subject if call is not None else "",
        number=call.subject_number if call is not None else None,
    )

"""The OpenAPI 3.1 document, generated from the endpoint list (the one source of truth) and
served at ``GET /v1/openapi.json``.

Each operation carries its access class and the roles allowed it (``x-access``, ``x-roles``);
the error replies every operation can give (400/401/403/404/413/503) are added here, from what
the endpoint declares, rather than repeated in each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from .access import ALLOWED, Access
from .endpoint import Call, Endpoint, Reply
from .fields import Field, object_schema
from .schemas import COMPONENTS, ref

OPENAPI = web.AppKey("dialguard_openapi", dict)
ERROR = ref("Error")
_CHALLENGE = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}


def document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dialguard admin API",
            "version": "1",
            "description": "Compliance gate administration. Errors are "
            '{"error": {"code", "message", "field"?}}; phone numbers are accepted in any '
            "common form and answered in E.164.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(COMPONENTS),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `dialguard tokens create --role R`.",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def _operation(e: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": e.operation_id,
        "summary": e.summary,
        "x-access": e.access.value,
        "x-roles": sorted(role.value for role in ALLOWED[e.access]),
        "parameters": [_parameter(f, "path") for f in e.path_params]
        + [_parameter(f, "query") for f in e.query]
        + [_parameter(f, "header") for f in e.headers],
        "responses": {str(status): _reply(r) for status, r in sorted(_replies(e).items())},
    }
    if e.access is Access.PUBLIC:
        operation["security"] = []
    if e.handler.__doc__:
        operation["description"] = " ".join(e.handler.__doc__.split())
    if e.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": object_schema(e.body)}},
        }
    return operation


def _replies(e: Endpoint) -> dict[int, Reply]:
    replies = {503: Reply("The database is unavailable", ERROR)}
    if e.body is not None or e.query or e.path_params or e.headers:
        replies[400] = Reply("Invalid input; the error names the field", ERROR)
    if e.body is not None:
        replies[413] = Reply("Request body too large", ERROR)
    if e.path_params:
        replies[404] = Reply("Not found", ERROR)
    if e.access is not Access.PUBLIC:
        replies[401] = Reply("No, invalid or revoked token", ERROR, _CHALLENGE)
        replies[403] = Reply("The token's role may not do this", ERROR)
    replies.update(e.replies)
    return replies


def _reply(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.schema is not None:
        out["content"] = {"application/json": {"schema": dict(reply.schema)}}
    if reply.headers:
        out["headers"] = {name: dict(spec) for name, spec in reply.headers.items()}
    return out


def _parameter(f: Field, where: str) -> dict[str, Any]:
    return {
        "name": f.name,
        "in": where,
        "required": f.required or where == "path",
        "schema": f.schema(),
        **({"description": f.description} if f.description else {}),
    }


async def openapi_document(call: Call) -> web.Response:
    return web.json_response(call.request.app[OPENAPI])


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/openapi.json",
        openapi_document,
        Access.PUBLIC,
        "This document",
        {200: Reply("OpenAPI 3.1", {"type": "object"})},
        audited=False,
    ),
)

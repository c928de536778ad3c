"""``GET /health``: is this gate alive, can it read its database, are its listeners serving?

No token (load balancers, systemd watchdogs and ``dialguard status`` ask it), so it answers only
states and the version: never the database URL or an error text. 200 when the database answered
and every enabled listener serves, 503 otherwise; the database's error is logged here instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from ..storage.errors import StorageError
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond

log = logging.getLogger("dialguard.api")

DATABASE_TIMEOUT_S = 2.0
"""A database slower than this to answer one query counts as unreachable."""

_STATE = {
    "type": "object",
    "required": ["enabled", "up"],
    "properties": {"enabled": {"type": "boolean"}, "up": {"type": "boolean"}},
}
HEALTH = {
    "type": "object",
    "required": ["status", "version", "database", "listeners"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unhealthy"]},
        "version": {"type": "string"},
        "database": {
            "type": "object",
            "required": ["ok"],
            "properties": {"ok": {"type": "boolean"}, "ms": {"type": "number"}},
        },
        "listeners": {"type": "object", "additionalProperties": _STATE},
    },
}


@cache
def dialguard_version() -> str:
    try:
        return version("dialguard")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


async def health(call: Call) -> web.Response:
    """Liveness, the database (one query, at most 2 s) and each listener; no token needed."""
    context = call.context
    started = time.perf_counter()
    database: dict[str, object]
    try:
        await asyncio.wait_for(context.store.ping(), DATABASE_TIMEOUT_S)
        database = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except (StorageError, TimeoutError) as exc:
        log.warning("health: database unavailable", extra={"fields": {"error": str(exc)}})
        database = {"ok": False}
    listeners = {
        name: {"enabled": up is not None, "up": bool(up)}
        for name, up in context.listeners().items()
    }
    listeners["api"] = {"enabled": True, "up": True}  # it is answering this request
    healthy = database["ok"] is True and all(
        state["up"] for state in listeners.values() if state["enabled"]
    )
    body = {
        "status": "ok" if healthy else "unhealthy",
        "version": dialguard_version(),
        "database": database,
        "listeners": listeners,
    }
    return respond(body, 200 if healthy else 503)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/health",
        health,
        Access.PUBLIC,
        "Liveness: the database and the listeners",
        {
            200: Reply("Healthy", HEALTH),
            503: Reply("Unhealthy: the database or an enabled listener is down", HEALTH),
        },
        audited=False,
    ),
)

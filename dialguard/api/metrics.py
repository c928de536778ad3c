"""``GET /metrics``: the gate's Prometheus metrics, under its own rule (``api.metrics_access``).

Not an :class:`~dialguard.api.endpoint.Endpoint`: a scraper polls every few seconds, and an audit
entry per scrape would grow the tamper-evident chain with nothing about anyone (the metrics carry
counts and ages, never a number). Refusals are logged like the API's.

- ``loopback`` (default): no token; clients on 127.0.0.0/8 or ::1 only, others get 403. A reverse
  proxy on the same host makes every client look local: use ``token`` behind one.
- ``token``: ``Authorization: Bearer <token>`` of role admin, operator or auditor, from anywhere.
- ``off``: 404, as if there were no such route.
"""

from __future__ import annotations

import ipaddress
import logging

from aiohttp import web

from ..metrics import CONTENT_TYPE
from ..settings.errors import ConfigError
from ..tokens.tokens import Role
from .auth import authenticate
from .context import ApiContext
from .errors import ApiError, not_found

log = logging.getLogger("dialguard.api.metrics")

ACCESS_RULES = ("loopback", "token", "off")
SCRAPER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR})


def add_metrics_route(app: web.Application, context: ApiContext) -> None:
    rule = context.settings.api.metrics_access
    if rule not in ACCESS_RULES:
        raise ConfigError(f"api.metrics_access: expected one of {', '.join(ACCESS_RULES)}")

    async def metrics(request: web.Request) -> web.Response:
        if rule == "off" or context.metrics is None:
            raise not_found("/metrics")
        if rule == "loopback" and not _loopback(request.remote):
            fields = {"client": request.remote or "", "rule": rule}
            log.warning("metrics: scrape refused (403)", extra={"fields": fields})
            raise ApiError(403, "forbidden", "metrics are served to loopback clients only")
        if rule == "token":
            token = await authenticate(context, request)
            if token.role not in SCRAPER_ROLES:
                raise ApiError(403, "forbidden", f"role {token.role.value!r} may not read metrics")
        body = context.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", metrics, name="metrics")


def _loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%")[0])
    except ValueError:  # a Unix socket peer has no address
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback

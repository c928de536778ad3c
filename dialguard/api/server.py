"""Runs the admin API: ``start()`` binds (port 0 in tests; :attr:`ApiServer.port` tells which),
``stop()`` finishes in-flight requests for a bounded time and closes.

aiohttp's own access log is replaced by :class:`MaskedAccessLog`: one structured line per request
through the ``dialguard`` logger (whose formatter masks phone numbers), naming the route template
rather than the raw URL, and leaving the query string out (it may carry numbers, URL-encoded
where the masking cannot see them).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from ..config import ApiSettings

log = logging.getLogger("dialguard.api")
access_log = logging.getLogger("dialguard.api.access")
server_log = logging.getLogger("dialguard.api.http")
"""aiohttp's own errors (malformed requests, which may echo what was sent) go through the
masking formatter too."""

SHUTDOWN_GRACE_S = 5.0


class MaskedAccessLog(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        resource = request.match_info.route.resource if isinstance(request, web.Request) else None
        self.logger.info(
            "api request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": resource.canonical if resource is not None else request.path,
                    "status": response.status,
                    "ms": round(time * 1000, 3),
                    "client": request.remote or "",
                }
            },
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class ApiServer:
    def __init__(self, settings: ApiSettings, app: web.Application) -> None:
        self._settings = settings
        self._runner = web.AppRunner(
            app,
            access_log_class=MaskedAccessLog,
            access_log=access_log,
            logger=server_log,
            shutdown_timeout=SHUTDOWN_GRACE_S,
        )
        self._site: web.TCPSite | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        server = self._site._server if self._site is not None else None
        sockets = getattr(server, "sockets", None)
        if not sockets:
            raise RuntimeError("ApiServer is not started")
        return int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self._settings.host, self._settings.port)
        await self._site.start()
        log.info(
            "admin API listening",
            extra={"fields": {"host": self._settings.host, "port": self.port}},
        )

    async def stop(self) -> None:
        await self._runner.cleanup()
        self._site = None

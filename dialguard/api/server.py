"""Runs the admin API: ``start()`` binds (port 0 in tests; :attr:`ApiServer.port` tells which),
``stop()`` finishes in-flight requests for a bounded time and closes. Given
``api.tls_cert_file`` and ``api.tls_key_file`` it serves HTTPS only (TLS 1.2 or later).

aiohttp's own access log is replaced by :class:`MaskedAccessLog`: one structured line per request
through the ``dialguard`` logger (whose formatter masks phone numbers), naming the route template
rather than the raw URL, and leaving the query string out (it may carry numbers, URL-encoded
where the masking cannot see them).
"""

from __future__ import annotations

import logging
import ssl

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from ..settings.api import ApiSettings
from ..settings.errors import ConfigError

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


def tls_context(settings: ApiSettings) -> ssl.SSLContext | None:
    """The server context for ``api.tls_cert_file``/``api.tls_key_file`` (TLS 1.2 or later);
    None when neither is set. A half-given pair or a file that cannot be loaded is refused
    naming the setting, before anything listens."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if not cert and not key:
        return None
    if not cert or not key:
        missing = "api.tls_key_file" if cert else "api.tls_cert_file"
        raise ConfigError(f"{missing}: needed with the other for HTTPS (or leave both empty)")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"api.tls_cert_file/api.tls_key_file: cannot load ({exc})") from None
    return context


class ApiServer:
    def __init__(self, settings: ApiSettings, app: web.Application) -> None:
        self._settings = settings
        self._tls = tls_context(settings)
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
        self._site = web.TCPSite(
            self._runner, self._settings.host, self._settings.port, ssl_context=self._tls
        )
        await self._site.start()
        fields = {"host": self._settings.host, "port": self.port, "tls": self.tls}
        log.info("admin API listening", extra={"fields": fields})

    @property
    def tls(self) -> bool:
        """Whether it serves HTTPS."""
        return self._tls is not None

    async def stop(self) -> None:
        await self._runner.cleanup()
        self._site = None

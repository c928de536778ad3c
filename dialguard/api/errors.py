"""Every failure leaves the API as ``{"error": {"code", "message"[, "field"]}}``.

Handlers raise :class:`ApiError`; the middleware in :mod:`dialguard.api.app` turns it, aiohttp's
own HTTP errors (unknown path, wrong method, body too large) and library ``ValueError``s (whose
messages name what was wrong) into that shape, so no client ever sees an HTML error page.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

BEARER_CHALLENGE = 'Bearer realm="dialguard"'


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        body: dict[str, str] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return web.json_response({"error": body}, status=self.status, headers=self.headers)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": BEARER_CHALLENGE})


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def from_http(exc: web.HTTPException) -> ApiError:
    """aiohttp's routing and body-size errors, in our shape."""
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    code = _HTTP_CODES.get(exc.status, "bad_request")
    return ApiError(exc.status, code, exc.reason, headers=headers)

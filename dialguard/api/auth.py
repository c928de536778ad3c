"""Bearer tokens: read ``Authorization: Bearer <secret>`` and ask the token store who it is.

A missing, malformed, unknown, wrong or revoked token is one answer to the client (401 with a
``WWW-Authenticate`` challenge): telling them apart would help someone guessing. The log line
says which it was, without the secret.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ..tokens.tokens import Token
from ..tokens.tokens import authenticate as token_for
from .context import ApiContext
from .errors import unauthorized

log = logging.getLogger("dialguard.api.auth")


async def authenticate(context: ApiContext, request: web.Request) -> Token:
    """The live token the request carries, or a 401."""
    token = await token_for(context.store, _bearer_secret(request), now=context.clock.now())
    if token is None:
        _refused(request, "invalid or revoked token")
        raise unauthorized("invalid or revoked API token")
    return token


def _bearer_secret(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        _refused(request, "no Authorization header")
        raise unauthorized("an API token is required: Authorization: Bearer <token>")
    if scheme.lower() != "bearer" or not secret.strip():
        _refused(request, "not a bearer token")
        raise unauthorized("expected Authorization: Bearer <token>")
    return secret.strip()


def _refused(request: web.Request, why: str) -> None:
    fields = {"why": why, "method": request.method, "path": request.path}
    fields["client"] = request.remote or ""
    log.warning("api: request refused (401)", extra={"fields": fields})

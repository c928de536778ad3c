"""An endpoint is data: method, path, who may call it, what it reads, what it answers, and the
handler. The router, the authorisation check, input parsing and the OpenAPI document are all
derived from the same :class:`Endpoint` values, so they cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..ops.audited import Actor
from ..tokens.tokens import Token
from ..views import jsonable
from .access import Access
from .context import ApiContext
from .fields import Field


def actor_of(principal: Token | None) -> str:
    """How a token holder is named in the audit log."""
    return "api:anonymous" if principal is None else f"api:{principal.name}#{principal.id}"


@dataclass
class Call:
    """One request after authorisation and parsing, as a handler sees it."""

    request: web.Request
    context: ApiContext
    principal: Token | None
    params: dict[str, Any]
    """Path and query parameters, parsed as declared."""
    body: dict[str, Any]
    """The JSON body's declared fields, parsed (absent ones are ``None``)."""
    subject: str = ""
    """What the request was about (an id, a name); the handler sets it for the audit entry."""
    subject_number: str | None = None
    """Set instead of ``subject`` when that is a person's number (E.164): the audit entry names
    it by pseudonym (:func:`dialguard.rights.pseudonyms.subject`)."""

    @property
    def actor(self) -> str:
        return actor_of(self.principal)

    def act(self, name: str | None = None) -> Actor:
        """Who acts (``name``, default the token's holder), and now, for an audited operation
        (:mod:`dialguard.ops`)."""
        return Actor(name or self.actor, self.context.clock.now(), self.context.region)


Handler = Callable[[Call], Awaitable[web.Response]]
Guard = Callable[[web.Request, ApiContext], None]


@dataclass(frozen=True)
class Reply:
    """One documented response: its JSON schema (``None``: no body) and headers."""

    description: str
    schema: Mapping[str, Any] | None = None
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    access: Access
    summary: str
    replies: Mapping[int, Reply]
    path_params: tuple[Field, ...] = ()
    query: tuple[Field, ...] = ()
    body: tuple[Field, ...] | None = None
    """Fields of the JSON body; ``None`` when the endpoint takes no body."""
    headers: tuple[Field, ...] = ()
    """Request headers the endpoint reads (``Idempotency-Key``), parsed into ``params``."""
    audited: bool = True
    """Whether a call is written to the audit log (the API description is not)."""
    guard: Guard | None = None
    """Runs before the inputs are parsed, so it sees malformed requests too (rate limits)."""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def respond(value: Any, status: int = 200) -> web.Response:
    """``value`` as JSON (dataclasses, dates and enums as :func:`dialguard.views.jsonable`)."""
    return web.json_response(
        jsonable(value), status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False)
    )

"""The admin API's access log in the chain: one ``api.request`` entry per request made with a
valid token — reads and refusals included — naming the person it was about by pseudonym."""

from __future__ import annotations

from ..storage.store import Store
from ..tokens.tokens import Token
from .audited import Actor, person, record


async def record_request(
    store: Store,
    actor: Actor,
    principal: Token,
    *,
    method: str,
    route: str,
    status: int,
    subject: str = "",
    number: str | None = None,
) -> None:
    """Audit one request: who (``actor``, the token), what (method and route), the status, and
    what it was about (``number``, a person's E.164, by pseudonym; else ``subject``)."""
    async with store.transaction() as tx:
        about = person(tx, number) if number is not None else subject
        detail = {
            "method": method,
            "route": route,
            "status": status,
            "token": principal.id,
            "role": principal.role.value,
        }
        await record(tx, actor, "api.request", about, detail)

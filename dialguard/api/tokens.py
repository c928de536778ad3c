"""``/v1/tokens``: API tokens, for the ``admin`` role only. A new token's secret is in the
creation's answer and nowhere else (stored hashed), like ``dialguard tokens create``."""

from __future__ import annotations

from aiohttp import web

from ..ops import tokens as ops
from ..tokens.tokens import Role, UnknownToken, list_tokens
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import not_found
from .fields import Field, choice, text
from .schemas import array, ref


async def list_api_tokens(call: Call) -> web.Response:
    """Every token, revoked ones included; never a secret."""
    return respond(await list_tokens(call.context.store))


async def create_api_token(call: Call) -> web.Response:
    """A new token for a role; the answer holds its secret, shown only this once."""
    b = call.body
    token, secret = await ops.create_token(
        call.context.store, call.act(), b["role"], b["name"] or ""
    )
    call.subject = token.id
    return respond({"token": token, "secret": secret}, status=201)


async def revoke_api_token(call: Call) -> web.Response:
    """Requests with it are refused from the next one on; revoking twice changes nothing."""
    token_id: str = call.params["token_id"]
    call.subject = token_id
    try:
        token = await ops.revoke_token(call.context.store, call.act(), token_id)
    except UnknownToken:
        raise not_found(f"API token {token_id!r}") from None
    return respond(token)


_TOKEN_ID = Field("token_id", text(16), required=True)

ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/tokens",
        list_api_tokens,
        Access.ADMIN,
        "List API tokens",
        {200: Reply("Tokens, oldest first", array(ref("Token")))},
    ),
    Endpoint(
        "POST",
        "/v1/tokens",
        create_api_token,
        Access.ADMIN,
        "Create an API token for a role",
        {201: Reply("The token and its secret (shown only now)", ref("NewToken"))},
        body=(
            Field("role", choice([r.value for r in Role]), required=True),
            Field("name", text(100), description="What the token is for."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/tokens/{token_id}/revoke",
        revoke_api_token,
        Access.ADMIN,
        "Revoke an API token",
        {200: Reply("The token, revoked", ref("Token"))},
        path_params=(_TOKEN_ID,),
    ),
)

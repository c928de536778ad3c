"""``POST /v1/optout``: the public opt-out for web forms and SMS gateways (no token).

It adds the number to the do-not-call list (source = the channel), audits it, and answers the
same ``202 accepted`` whether or not the number was listed already, so it cannot be used to learn
who opted out. Throttled per client address and per number (token buckets, ``[api] optout_*``):
429 with ``Retry-After``. Clients are told apart by the socket's peer address; a proxy in front
makes every client one address, so give it its own, larger limits.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ..ops import dnc as ops
from .access import Access
from .context import ApiContext
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Phone, choice, text
from .ratelimit import retry_after
from .schemas import ref

log = logging.getLogger("dialguard.api.optout")


def _throttled(wait: float, per: str) -> ApiError:
    log.warning("api: opt-out throttled", extra={"fields": {"per": per, "retry_s": wait}})
    return ApiError(
        429,
        "rate_limited",
        "too many opt-out requests; retry later",
        headers={"Retry-After": retry_after(wait)},
    )


def limit_client(request: web.Request, context: ApiContext) -> None:
    wait = context.optout_by_client.take(request.remote or "unknown")
    if wait:
        raise _throttled(wait, "client")


async def opt_out(call: Call) -> web.Response:
    b = call.body
    number: str = b["number"]
    channel: str = b["channel"]
    wait = call.context.optout_by_number.take(number)
    if wait:
        raise _throttled(wait, "number")
    await ops.opt_out(
        call.context.store,
        call.act(f"optout:{channel}"),
        number,
        channel=channel,
        tenant=b["tenant"],
        reference=b["reference"],
    )
    return respond({"status": "accepted"}, status=202)


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}, "required": True}}

ENDPOINTS = (
    Endpoint(
        "POST",
        "/v1/optout",
        opt_out,
        Access.PUBLIC,
        "Opt out of calls (public: web forms, SMS gateways)",
        {
            202: Reply(
                "Recorded (the same answer whether or not it was listed)", ref("OptOutAccepted")
            ),
            429: Reply(
                "Too many requests from this client or for this number", ref("Error"), _RETRY_AFTER
            ),
        },
        body=(
            Field("number", Phone(), required=True),
            Field("tenant", text(64), description="Only this tenant's calls (default: all)."),
            Field("channel", choice(ops.OPTOUT_CHANNELS), required=True),
            Field("reference", text(100), description="The channel's own id (SMS id, form id)."),
        ),
        guard=limit_client,
    ),
)

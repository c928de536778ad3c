"""``/v1/frequency/reset``: make earlier attempts stop counting towards a callee's caps."""

from __future__ import annotations

from aiohttp import web

from ..ops import frequency as ops
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .fields import Field, Phone, text
from .schemas import ref


async def reset_frequency(call: Call) -> web.Response:
    """The attempts themselves stay on record as evidence (like ``frequency reset``)."""
    b = call.body
    callee, tenant, reason = b["callee"], b["tenant"], b["reason"]
    call.subject_number = callee
    reset = await ops.reset_frequency(
        call.context.store, call.act(), callee, tenant=tenant, reason=reason
    )
    return respond(reset)


ENDPOINTS = (
    Endpoint(
        "POST",
        "/v1/frequency/reset",
        reset_frequency,
        Access.OPERATE,
        "Reset a callee's frequency counters for a tenant",
        {200: Reply("The reset, as recorded", ref("FrequencyReset"))},
        body=(
            Field("callee", Phone(), required=True),
            Field("tenant", text(64), required=True),
            Field("reason", text(), required=True, description="Why (audited)."),
        ),
    ),
)

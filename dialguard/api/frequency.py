"""``/v1/frequency/reset``: make earlier attempts stop counting towards a callee's caps."""

from __future__ import annotations

from aiohttp import web

from ..rights.pseudonyms import masked, subject
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .fields import Field, Phone, text
from .schemas import ref


async def reset_frequency(call: Call) -> web.Response:
    """The attempts themselves stay on record as evidence (like ``frequency reset``)."""
    b = call.body
    callee, tenant, reason = b["callee"], b["tenant"], b["reason"]
    call.subject_number = callee
    async with call.context.store.transaction() as tx:
        reset = await tx.decisions.reset_frequency(
            callee, tenant, call.context.clock.now(), call.actor, reason
        )
        await tx.audit.append(
            call.actor,
            "frequency.reset",
            subject(tx, callee),
            masked({"tenant": tenant, "reason": reason}),
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

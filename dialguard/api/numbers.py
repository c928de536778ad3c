"""``/v1/numbers``: the access numbers a tenant may present, as filed with the regulator."""

from __future__ import annotations

from aiohttp import web

from ..ops.numbers import Filing, register_number
from ..policy.model import NumberType
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .fields import Day, Field, Flag, Phone, choice, text, text_list
from .schemas import array, ref


async def list_numbers(call: Call) -> web.Response:
    tenant: str | None = call.params["tenant"]
    async with call.context.store.transaction(readonly=True) as tx:
        return respond(await tx.numbers.list(tenant))


async def add_number(call: Call) -> web.Response:
    """Register a number for a tenant (re-adding updates the filing), like ``numbers add``."""
    b = call.body
    filing = Filing(
        number=b["number"],
        tenant=b["tenant"],
        purposes=b["purposes"],
        inbound=b["inbound"],
        outbound=b["outbound"],
        number_type=b["type"],
        filing_ref=b["filing_ref"],
        filed_on=b["filed_on"],
        active=b["active"],
    )
    call.subject = filing.number
    outcome, registration = await register_number(
        call.context.store, call.act(), filing, vocabulary=call.context.vocabulary
    )
    return respond({"outcome": outcome, "number": registration})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/numbers",
        list_numbers,
        Access.OPERATE,
        "List registered access numbers",
        {200: Reply("Registrations, by tenant and number", array(ref("RegisteredNumber")))},
        query=(Field("tenant", text(64), description="Only this tenant's numbers."),),
    ),
    Endpoint(
        "POST",
        "/v1/numbers",
        add_number,
        Access.OPERATE,
        "Register an access number for a tenant, or update its filing",
        {200: Reply("What was done, and the registration", ref("NumberResult"))},
        body=(
            Field("number", Phone(), required=True),
            Field("tenant", text(64), required=True),
            Field("purposes", text_list(), description="Filed purposes. Default: [callback]."),
            Field("inbound", Flag(), description="Filed with inbound enabled. Default: true."),
            Field("outbound", Flag(), description="Filed with outbound enabled. Default: true."),
            Field(
                "type", choice([t.value for t in NumberType]), description="Default: call-centre."
            ),
            Field("filed_on", Day()),
            Field("filing_ref", text(100)),
            Field("active", Flag(), description="In service. Default: true."),
        ),
    ),
)

"""``/v1/numbers``: the access numbers a tenant may present, as filed with the regulator, and the
lifecycle of their filings (like ``dialguard numbers``)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ..numbers import InvalidNumber
from ..ops import numbers as ops
from ..policy.model import NumberType
from ..storage.registry import NumberHeld
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Day, Field, Flag, Instant, RawPhone, choice, count, text, text_list
from .schemas import array, ref

_NUMBER = Field(
    "number",
    RawPhone(),
    required=True,
    description="E.164, national, or an access code of the pack's classes (95555, 10658001).",
)


def _invalid(exc: InvalidNumber) -> ApiError:
    return ApiError(400, "invalid_number", f"number: {exc}", "number")


async def list_numbers(call: Call) -> web.Response:
    tenant: str | None = call.params["tenant"]
    ended = bool(call.params["ended"])
    async with call.context.store.transaction(readonly=True) as tx:
        return respond(await tx.numbers.list(tenant, include_ended=ended))


async def add_number(call: Call) -> web.Response:
    """Register a number for a tenant (re-adding records a new version of the filing), like
    ``numbers add``; 409 when another tenant holds it."""
    b = call.body
    filing = ops.Filing(
        number=b["number"],
        tenant=b["tenant"],
        purposes=b["purposes"],
        inbound=b["inbound"],
        outbound=b["outbound"],
        number_type=b["type"],
        filing_ref=b["filing_ref"],
        filed_on=b["filed_on"],
        active=b["active"],
        effective_from=b["effective_from"],
        expires_on=b["expires_on"],
    )
    call.subject = filing.number
    try:
        outcome, registration = await ops.register_number(
            call.context.store, call.act(), filing, call.context.gate.numbering
        )
    except NumberHeld as exc:
        raise ApiError(409, "number_held", str(exc), "number") from None
    except InvalidNumber as exc:
        raise _invalid(exc) from None
    call.subject = registration.number
    return respond({"outcome": outcome, "number": registration})


async def end_number(call: Call) -> web.Response:
    """End a tenant's registration of a number (``numbers end``); a transfer is this, then
    ``POST /v1/numbers`` for the new tenant."""
    b = call.body
    call.subject = b["number"]
    try:
        ended = await ops.end_number(
            call.context.store,
            call.act(),
            b["number"],
            b["tenant"],
            call.context.gate.numbering,
            b["filed_on"],
        )
    except InvalidNumber as exc:
        raise _invalid(exc) from None
    call.subject = ended.number
    return respond({"ended": ended})


async def number_history(call: Call) -> web.Response:
    number: str = call.params["number"]
    call.subject = number
    try:
        found = await ops.number_history(
            call.context.store, number, call.context.gate.numbering, call.context.region
        )
    except InvalidNumber as exc:
        raise _invalid(exc) from None
    return respond(found)


async def report_change(call: Call) -> web.Response:
    """Record the day a change was reported to the regulator (``numbers report``)."""
    change_id: int = call.body["change"]
    call.subject = f"change {change_id}"
    change = await ops.report_change(
        call.context.store, call.act(), change_id, call.body["filed_on"]
    )
    return respond(change)


async def overdue_changes(call: Call) -> web.Response:
    gate = call.context.gate
    found = await ops.overdue_changes(
        call.context.store, gate.pack.calendar, gate.clock.now(), call.params["tenant"]
    )
    return respond(found)


async def expiring_numbers(call: Call) -> web.Response:
    within = timedelta(days=call.params["within_days"] or 30)
    found = await ops.expiring(
        call.context.store, call.context.clock.now(), within, call.params["tenant"]
    )
    return respond(found)


_TENANT_QUERY = Field("tenant", text(64), description="Only this tenant's numbers.")

ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/numbers",
        list_numbers,
        Access.OPERATE,
        "List registered access numbers",
        {200: Reply("Registrations, by tenant and number", array(ref("RegisteredNumber")))},
        query=(
            _TENANT_QUERY,
            Field("ended", Flag(), description="Include ended registrations."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/numbers",
        add_number,
        Access.OPERATE,
        "Register an access number for a tenant, or record a new version of its filing",
        {
            200: Reply("What was done, and the registration", ref("NumberResult")),
            409: Reply(
                "Another tenant holds the number: end that registration first", ref("Error")
            ),
        },
        body=(
            _NUMBER,
            Field("tenant", text(64), required=True),
            Field("purposes", text_list(), description="Filed purposes. Default: [callback]."),
            Field("inbound", Flag(), description="Filed with inbound enabled. Default: true."),
            Field("outbound", Flag(), description="Filed with outbound enabled. Default: true."),
            Field(
                "type",
                choice([t.value for t in NumberType]),
                description="Default: the number class's, else call-centre.",
            ),
            Field("filed_on", Day(), description="Day reported to the regulator."),
            Field("filing_ref", text(100)),
            Field("active", Flag(), description="In service. Default: true."),
            Field(
                "effective_from",
                Instant(),
                description="When these terms take effect. Default: a change from now; a new "
                "registration from the start of filed_on (Beijing time), else as registered.",
            ),
            Field("expires_on", Day(), description="Last day (Beijing time) the filing is valid."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/numbers/end",
        end_number,
        Access.OPERATE,
        "End a tenant's registration of an access number (the number is then free)",
        {200: Reply("The registration as it was", ref("NumberEnded"))},
        body=(
            _NUMBER,
            Field("tenant", text(64), required=True),
            Field("filed_on", Day(), description="Day the ending was reported."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/numbers/report",
        report_change,
        Access.OPERATE,
        "Record the day a change of a filing was reported to the regulator",
        {200: Reply("The change as it now stands", ref("FilingChange"))},
        body=(
            Field("change", count(1, 2**53), required=True, description="From the history."),
            Field("filed_on", Day(), required=True),
        ),
    ),
    Endpoint(
        "GET",
        "/v1/numbers/overdue",
        overdue_changes,
        Access.OPERATE,
        "Changes of filings not reported within 10 working days (CN calendar)",
        {200: Reply("Overdue changes", array(ref("OverdueChange")))},
        query=(_TENANT_QUERY,),
    ),
    Endpoint(
        "GET",
        "/v1/numbers/expiring",
        expiring_numbers,
        Access.OPERATE,
        "Registrations whose filing expires within the given days (or has expired)",
        {200: Reply("Registrations, soonest expiry first", array(ref("RegisteredNumber")))},
        query=(
            Field("within_days", count(1, 3660), description="Default: 30."),
            _TENANT_QUERY,
        ),
    ),
    Endpoint(
        "GET",
        "/v1/numbers/{number}/history",
        number_history,
        Access.OPERATE,
        "Every version of a number's filings, ended registrations included",
        {200: Reply("Versions, in the order recorded", array(ref("FilingChange")))},
        path_params=(_NUMBER,),
    ),
)

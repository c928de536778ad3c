"""``/v1/dsr/requests``: data-subject requests (PIPL Art 44–47, GDPR Art 15–18), for the ``dsr``
role. A thin shell over :mod:`dialguard.ops.dsr`: each request is put on the register and
handled on the spot (or, with ``request_id``, one received earlier is handled; with ``handle:
false``, it is only received), audited there.

The register names people by pseudonym and masked number only. An export answers with the JSON
export itself; audio stays in the vault (``dialguard dsr export --audio`` writes it to files).
An export holding records of a tenant whose rule pack marks its data sensitive (healthcare) is
answered only to the roles that pack allows (``dsr``, not ``admin``): 403 ``sensitive_data``
otherwise (:mod:`dialguard.rights.sensitive`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..ops import dsr as ops
from ..rights.sensitive import ExportRefused, ExportRole
from ..rights.service import list_requests
from ..storage.dsr_requests import DsrKind, UnknownRequest
from ..views import jsonable
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError, not_found
from .fields import Field, Flag, Instant, Phone, choice, count, invalid
from .schemas import array, ref


async def create_request(call: Call) -> web.Response:
    """Handle an export, correction or erasure now; the answer carries the register entry's id
    and what was done (the export's data, the correction's before/after, the erasure report).
    With ``handle: false`` the request is only put on the register (received now, or at
    ``received``), to be handled later by its ``request_id``."""
    b = call.body
    kind = DsrKind(b["kind"])
    number: str = b["number"]
    call.subject_number = number
    if kind is not DsrKind.CORRECT and (b["minor"] is not None or b["guardian"] is not None):
        raise invalid("minor" if b["minor"] is not None else "guardian", "only for correct")
    handle = b["handle"] is not False
    if b["received"] is not None and handle:
        raise invalid("received", "only with handle: false (a request handled now is received now)")
    if not handle and b["request_id"] is not None:
        raise invalid("request_id", "only when handling a request")
    ctx = call.context
    days = ctx.settings.dsr.deadline_days
    try:
        if handle:
            request_id, result = await _handle(call, kind, number)
        else:
            received = await ops.receive(
                ctx.store, call.act(), kind, number, deadline_days=days, received=b["received"]
            )
            request_id, result = received.id, {}
    except UnknownRequest:
        raise not_found(f"data-subject request #{b['request_id']}") from None
    except ExportRefused as exc:
        raise ApiError(403, "sensitive_data", str(exc)) from None
    async with ctx.store.transaction(readonly=True) as tx:
        request = await tx.dsr.get(request_id)
    return respond({"request": request, "result": result})


async def _handle(call: Call, kind: DsrKind, number: str) -> tuple[int, dict[str, Any]]:
    b, ctx = call.body, call.context
    common: dict[str, Any] = {
        "deadline_days": ctx.settings.dsr.deadline_days,
        "request_id": b["request_id"],
    }
    if kind is DsrKind.EXPORT:
        role = call.principal.role.value if call.principal is not None else ""
        as_role = ExportRole(role, ctx.gate.book)
        export = await ops.export(ctx.store, call.act(), number, as_role=as_role, **common)
        return export.request_id, export.data
    if kind is DsrKind.CORRECT:
        if b["minor"] is None and b["guardian"] is None:
            raise invalid("minor", "a correction needs minor and/or guardian")
        correction = await ops.correct(
            ctx.store, call.act(), number, minor=b["minor"], guardian=b["guardian"], **common
        )
        before, after = jsonable(correction.before), jsonable(correction.after)
        return correction.request_id, {"before": before, "after": after}
    report = await ops.erase(ctx.store, call.act(), ctx.gate.pack, number, **common)
    return report.request_id, jsonable(report)


async def list_dsr_requests(call: Call) -> web.Response:
    """Oldest deadline first: the order they must be answered in."""
    number: str | None = call.params["number"]
    call.subject_number = number
    rows = await list_requests(
        call.context.store, open_only=bool(call.params["open_only"]), number=number
    )
    return respond(rows)


async def get_dsr_request(call: Call) -> web.Response:
    request_id: int = call.params["request_id"]
    call.subject = f"dsr:{request_id}"
    async with call.context.store.transaction(readonly=True) as tx:
        request = await tx.dsr.get(request_id)
    if request is None:
        raise not_found(f"data-subject request #{request_id}")
    return respond(request)


_REQUEST_ID = count(1, 2**62)

ENDPOINTS = (
    Endpoint(
        "POST",
        "/v1/dsr/requests",
        create_request,
        Access.RIGHTS,
        "Handle a data-subject request: export, correct or erase",
        {
            200: Reply("The register entry and what was done", ref("DsrOutcome")),
            403: Reply(
                "The token's role may not do this, or (code sensitive_data) the export holds "
                "records of a tenant whose rule pack lets only other roles export them",
                ref("Error"),
            ),
            404: Reply("No received request with that request_id", ref("Error")),
        },
        body=(
            Field("kind", choice([k.value for k in DsrKind]), required=True),
            Field("number", Phone(), required=True, description="The data subject's number."),
            Field("minor", Flag(), description="correct: the subject is a minor."),
            Field("guardian", Flag(), description="correct: the subject is a minor's guardian."),
            Field("request_id", _REQUEST_ID, description="Handle this received request."),
            Field(
                "handle",
                Flag(),
                description="false: only put it on the register, to be handled later. "
                "Default: true.",
            ),
            Field(
                "received",
                Instant(),
                description="With handle false: when it was received. Default: now.",
            ),
        ),
    ),
    Endpoint(
        "GET",
        "/v1/dsr/requests",
        list_dsr_requests,
        Access.RIGHTS,
        "The register of data-subject requests",
        {200: Reply("Requests, oldest deadline first", array(ref("DsrRequest")))},
        query=(
            Field("open_only", Flag(), description="Only requests still open."),
            Field("number", Phone(), description="Only requests about this number."),
        ),
    ),
    Endpoint(
        "GET",
        "/v1/dsr/requests/{request_id}",
        get_dsr_request,
        Access.RIGHTS,
        "One data-subject request",
        {200: Reply("The request", ref("DsrRequest"))},
        path_params=(Field("request_id", _REQUEST_ID, required=True),),
    ),
)

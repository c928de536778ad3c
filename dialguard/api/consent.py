"""``/v1/consents``: evidence that a callee agreed to be called by a tenant for a purpose."""

from __future__ import annotations

from aiohttp import web

from ..ops import consent as ops
from ..ops.vocabulary import known_tenant
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .fields import Field, Instant, Phone, count, text
from .schemas import array, ref


async def list_consents(call: Call) -> web.Response:
    """A callee's records for the tenant, or (no callee) the tenant's, newest first."""
    callee: str | None = call.params["callee"]
    tenant: str = call.params["tenant"]
    call.subject_number = callee
    async with call.context.store.transaction(readonly=True) as tx:
        await known_tenant(tx, tenant)
        if callee is None:
            return respond(await tx.consents.of_tenant(tenant, call.params["limit"] or 1000))
        return respond(await tx.consents.for_callee(callee, tenant))


async def add_consent(call: Call) -> web.Response:
    b = call.body
    call.subject_number = b["callee"]
    record = await ops.add_consent(
        call.context.store,
        call.act(),
        b["callee"],
        tenant=b["tenant"],
        purpose=b["purpose"],
        evidence_ref=b["evidence"],
        vocabulary=call.context.vocabulary,
        channel=b["channel"],
        given=b["given"],
        expires=b["expires"],
    )
    return respond(record, status=201)


async def revoke_consent(call: Call) -> web.Response:
    """Revoke for one purpose, or every purpose; effective for the next call."""
    b = call.body
    callee, tenant, purpose = b["callee"], b["tenant"], b["purpose"]
    call.subject_number = callee
    count = await ops.revoke_consent(
        call.context.store, call.act(), callee, tenant=tenant, purpose=purpose
    )
    return respond({"callee": callee, "tenant": tenant, "purpose": purpose, "revoked": count})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/consents",
        list_consents,
        Access.OPERATE,
        "A tenant's consent records, or one callee's",
        {200: Reply("Consent records, revoked ones included", array(ref("Consent")))},
        query=(
            Field("callee", Phone(), description="Only this callee's (oldest first)."),
            Field("tenant", text(64), required=True),
            Field("limit", count(1, 10_000), description="Without callee: at most. Default: 1000."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/consents",
        add_consent,
        Access.OPERATE,
        "Record a callee's consent to calls from a tenant for a purpose",
        {201: Reply("The consent record", ref("Consent"))},
        body=(
            Field("callee", Phone(), required=True),
            Field("tenant", text(64), required=True),
            Field("purpose", text(60), required=True),
            Field("evidence", text(), required=True, description="Ticket, recording, form id…"),
            Field("channel", text(40), description="How consent was given (web, ivr, sms…)."),
            Field("given", Instant(), description="Default: now."),
            Field("expires", Instant()),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/consents/revoke",
        revoke_consent,
        Access.OPERATE,
        "Revoke a callee's consent",
        {200: Reply("How many records were revoked", ref("ConsentRevocation"))},
        body=(
            Field("callee", Phone(), required=True),
            Field("tenant", text(64), required=True),
            Field("purpose", text(60), description="Only this purpose (default: every one)."),
        ),
    ),
)

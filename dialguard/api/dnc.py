"""``/v1/dnc``: do-not-call entries. An opt-out is immediate and permanent; a removal needs a
reason and keeps the history."""

from __future__ import annotations

from aiohttp import web

from ..policy.model import DncEntry, DncScope
from ..rights.pseudonyms import masked, subject
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Instant, Phone, invalid, text
from .schemas import ref


def scope_of(tenant: str | None, campaign: str | None) -> DncScope:
    if campaign and not tenant:
        raise invalid("campaign", "needs a tenant")
    if campaign:
        return DncScope.CAMPAIGN
    return DncScope.TENANT if tenant else DncScope.GLOBAL


async def check_dnc(call: Call) -> web.Response:
    """Is the number blocked for this tenant (and campaign)? Same JSON as ``dnc check --json``."""
    number: str = call.params["number"]
    call.subject_number = number
    tenant, campaign = call.params["tenant"], call.params["campaign"]
    now = call.context.clock.now()
    async with call.context.store.transaction(readonly=True) as tx:
        entries = await tx.dnc.matching(number, tenant or "", campaign, now)
    return respond({"number": number, "listed": bool(entries), "entries": entries})


async def add_dnc(call: Call) -> web.Response:
    b = call.body
    call.subject_number = b["number"]
    entry = DncEntry(
        number=b["number"],
        scope=scope_of(b["tenant"], b["campaign"]),
        tenant=b["tenant"],
        campaign=b["campaign"],
        source=b["source"] or "admin",
        reason=b["reason"],
        added_at=call.context.clock.now(),
        expires_at=b["expires"],
        added_by=call.actor,
    )
    async with call.context.store.transaction() as tx:
        if entry.tenant:
            await tx.tenants.ensure(entry.tenant)
        outcome = await tx.dnc.add(entry)
        await tx.audit.append(
            call.actor, "dnc.add", subject(tx, entry.number), masked({"after": entry})
        )
    return respond({"outcome": outcome, "entry": entry})


async def remove_dnc(call: Call) -> web.Response:
    """Take the entry in the given scope off its list; 404 when there is no live one."""
    b = call.body
    number: str = b["number"]
    call.subject_number = number
    scope = scope_of(b["tenant"], b["campaign"])
    async with call.context.store.transaction() as tx:
        removed = await tx.dnc.remove(
            number,
            scope=scope,
            tenant=b["tenant"],
            campaign=b["campaign"],
            reason=b["reason"],
            by=call.actor,
            at=call.context.clock.now(),
        )
        if removed:
            await tx.audit.append(
                call.actor,
                "dnc.remove",
                subject(tx, number),
                {"scope": scope.value, "tenant": b["tenant"], "reason": b["reason"]},
            )
    if not removed:
        raise ApiError(404, "not_found", f"{number} has no live {scope} do-not-call entry")
    return respond({"number": number, "scope": scope, "removed": True})


_SCOPE = (
    Field("tenant", text(64), description="Tenant scope (default: global)."),
    Field("campaign", text(100), description="Campaign scope (needs tenant)."),
)

ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/dnc",
        check_dnc,
        Access.OPERATE,
        "Is a number on a do-not-call list that applies to the tenant and campaign?",
        {200: Reply("The live entries that block calls to it", ref("DncCheck"))},
        query=(Field("number", Phone(), required=True), *_SCOPE),
    ),
    Endpoint(
        "POST",
        "/v1/dnc",
        add_dnc,
        Access.OPERATE,
        "Put a number on a do-not-call list (effective for the next call)",
        {200: Reply("What was done, and the entry", ref("DncResult"))},
        body=(
            Field("number", Phone(), required=True),
            *_SCOPE,
            Field("reason", text()),
            Field("source", text(40), description="Where the opt-out came from. Default: admin."),
            Field("expires", Instant(), description="When the entry lapses (default: never)."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/dnc/remove",
        remove_dnc,
        Access.OPERATE,
        "Remove a number's entry in one scope; its history is kept",
        {
            200: Reply("Removed", ref("DncRemoval")),
            404: Reply("No live entry in that scope", ref("Error")),
        },
        body=(
            Field("number", Phone(), required=True),
            *_SCOPE,
            Field("reason", text(), required=True, description="Why (kept as evidence)."),
        ),
    ),
)

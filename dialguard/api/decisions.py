"""``/v1/decisions``: the recorded call attempts and what the gate decided (evidence).

Caller and callee of a tenant whose rule pack marks its data sensitive (healthcare) are masked
(:mod:`dialguard.rights.sensitive`); the data subject gets them through a DSR export."""

from __future__ import annotations

from aiohttp import web

from ..ops.decisions import find_decision
from ..policy.model import Verdict
from ..rights.sensitive import tenant_rules
from ..views import decision_view
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import not_found
from .fields import Field, Instant, Phone, choice, count, text
from .schemas import array, ref


async def list_decisions(call: Call) -> web.Response:
    """Newest first; same JSON as ``decisions list --json``."""
    p = call.params
    call.subject_number = p["callee"]
    async with call.context.store.transaction(readonly=True) as tx:
        rows = await tx.decisions.list(
            p["callee"],
            p["since"],
            p["limit"] or 50,
            until=p["until"],
            tenant=p["tenant"],
            verdict=Verdict(p["verdict"]) if p["verdict"] else None,
            reason=p["reason"],
            caller=p["caller"],
        )
        rules = await tenant_rules(tx, call.context.gate.book)
    return respond([rules.view(d.attempt.tenant, decision_view(d)) for d in rows])


async def get_decision(call: Call) -> web.Response:
    decision_id: str = call.params["decision_id"]
    call.subject = decision_id
    async with call.context.store.transaction(readonly=True) as tx:
        decision = await find_decision(tx, decision_id, "decision_id")
        rules = await tenant_rules(tx, call.context.gate.book)
    if decision is None:
        raise not_found(f"decision {decision_id!r}")
    return respond(rules.view(decision.attempt.tenant, decision_view(decision)))


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/decisions",
        list_decisions,
        Access.AUDIT,
        "Recorded decisions, newest first",
        {200: Reply("Decisions", array(ref("Decision")))},
        query=(
            Field("callee", Phone(), description="Only calls to this number."),
            Field("caller", Phone(), description="Only calls presenting this caller ID."),
            Field("tenant", text(64), description="Only this tenant's calls."),
            Field("verdict", choice([v.value for v in Verdict]), description="Only these."),
            Field("reason", text(64), description="Only decisions with this reason code."),
            Field("since", Instant(), description="Only decisions at or after this instant."),
            Field("until", Instant(), description="Only decisions before this instant."),
            Field("limit", count(1, 10_000), description="Default: 50."),
        ),
    ),
    Endpoint(
        "GET",
        "/v1/decisions/{decision_id}",
        get_decision,
        Access.AUDIT,
        "One recorded decision, by its id or the first characters of it (at least 4)",
        {200: Reply("The decision", ref("Decision"))},
        path_params=(Field("decision_id", text(64), required=True),),
    ),
)

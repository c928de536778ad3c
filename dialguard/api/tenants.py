"""``/v1/tenants``: the call centres served and the industry whose rules apply to each."""

from __future__ import annotations

from aiohttp import web

from ..ops import tenants as ops
from ..policy.model import INDUSTRIES
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .fields import Field, choice, text
from .schemas import array, ref


async def list_tenants(call: Call) -> web.Response:
    async with call.context.store.transaction(readonly=True) as tx:
        return respond(await tx.tenants.list())


async def add_tenant(call: Call) -> web.Response:
    """Create a tenant, or change its industry (``outcome`` says which)."""
    name: str = call.body["name"]
    industry: str = call.body["industry"] or ops.DEFAULT_INDUSTRY
    call.subject = name
    outcome = await ops.add_tenant(call.context.store, call.act(), name, industry)
    return respond({"name": name, "industry": industry, "outcome": outcome})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/tenants",
        list_tenants,
        Access.OPERATE,
        "List tenants",
        {200: Reply("Every tenant, by name", array(ref("Tenant")))},
    ),
    Endpoint(
        "POST",
        "/v1/tenants",
        add_tenant,
        Access.OPERATE,
        "Create a tenant or change its industry",
        {200: Reply("What was done", ref("TenantResult"))},
        body=(
            Field("name", text(64), required=True),
            Field("industry", choice(INDUSTRIES), description="Default: general."),
        ),
    ),
)

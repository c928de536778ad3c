"""``/v1/scripts``: campaign scripts, screened for the tenant's banned phrases when registered
(like ``dialguard scripts add``). A script with a banned phrase is stored as refused, with every
hit, never as an approval: the answer's ``status`` says which."""

from __future__ import annotations

from aiohttp import web

from ..ops import scripts as ops
from ..storage.errors import UnknownTenant
from ..storage.script_records import script_view
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, text
from .schemas import array, ref
from .text import ExactText

MAX_SCRIPT = 20_000
"""Characters (a script is a call flow, longer than a text checked on the spot)."""


async def list_scripts(call: Call) -> web.Response:
    """Registered scripts, oldest first, without their text."""
    p = call.params
    async with call.context.store.transaction(readonly=True) as tx:
        scripts = await tx.scripts.list(p["tenant"], p["campaign"])
    return respond([script_view(s) for s in scripts])


async def add_script(call: Call) -> web.Response:
    """Screen a script and store it as the campaign's, approved or refused."""
    b = call.body
    call.subject = f"{b['tenant']}/{b['campaign']}"
    try:
        script, _ = await ops.register_script(
            call.context.store,
            call.act(),
            call.context.phrases,
            tenant=b["tenant"],
            campaign=b["campaign"],
            text=b["text"],
            file_name=b["file_name"] or "api",
        )
    except UnknownTenant:
        raise ApiError(404, "unknown_tenant", f"no tenant {b['tenant']!r}", "tenant") from None
    return respond(script_view(script), status=201)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/scripts",
        list_scripts,
        Access.OPERATE,
        "List campaign scripts",
        {200: Reply("Scripts, oldest first", array(ref("Script")))},
        query=(
            Field("tenant", text(64), description="Only this tenant's."),
            Field("campaign", text(128), description="Only this campaign's."),
        ),
    ),
    Endpoint(
        "POST",
        "/v1/scripts",
        add_script,
        Access.OPERATE,
        "Register a campaign script (screened for banned phrases)",
        {
            201: Reply("The script as stored: approved, or refused with every hit", ref("Script")),
            404: Reply("No such tenant", ref("Error")),
        },
        body=(
            Field("tenant", text(64), required=True, description="Whose packs apply."),
            Field("campaign", text(128), required=True),
            Field(
                "text",
                ExactText({"type": "string", "maxLength": MAX_SCRIPT}),
                required=True,
                description="The script, as agents will read it.",
            ),
            Field("file_name", text(200), description="Where it came from. Default: api."),
        ),
    ),
)

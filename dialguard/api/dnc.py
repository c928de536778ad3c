"""``/v1/dnc``: do-not-call entries. An opt-out is immediate and permanent; a removal needs a
reason and keeps the history."""

from __future__ import annotations

from aiohttp import web

from ..dnc.importer import BadLine, parse_numbers
from ..ops import dnc as ops
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Instant, Phone, text, text_list
from .schemas import ref

MAX_IMPORT = 2000
"""Numbers per import request (a 64 KiB body holds about this many)."""


async def check_dnc(call: Call) -> web.Response:
    """Is the number listed? With ``tenant``: the entries that bar its (campaign's) calls;
    without: every list it is on. Same JSON as ``dnc check --json``."""
    number: str = call.params["number"]
    call.subject_number = number
    entries = await ops.listings(
        call.context.store,
        number,
        call.context.clock.now(),
        tenant=call.params["tenant"],
        campaign=call.params["campaign"],
        national=call.context.gate.national_dnc,
    )
    return respond({"number": number, "listed": bool(entries), "entries": entries})


async def add_dnc(call: Call) -> web.Response:
    b = call.body
    call.subject_number = b["number"]
    outcome, entry = await ops.add_dnc(
        call.context.store,
        call.act(),
        b["number"],
        tenant=b["tenant"],
        campaign=b["campaign"],
        reason=b["reason"],
        source=b["source"],
        expires=b["expires"],
    )
    return respond({"outcome": outcome, "entry": entry})


async def remove_dnc(call: Call) -> web.Response:
    """Take the entry in the given scope off its list; 404 when there is no live one."""
    b = call.body
    number: str = b["number"]
    call.subject_number = number
    scope = ops.scope_of(b["tenant"], b["campaign"])
    removed = await ops.remove_dnc(
        call.context.store,
        call.act(),
        number,
        reason=b["reason"],
        tenant=b["tenant"],
        campaign=b["campaign"],
    )
    if not removed:
        raise ApiError(404, "not_found", f"{number} has no live {scope} do-not-call entry")
    return respond({"number": number, "scope": scope, "removed": True})


async def import_dnc(call: Call) -> web.Response:
    """Put a list of numbers on the global list or a tenant's, like ``dnc import``: numbers
    already listed are left as they are, bad ones are reported by position and skipped."""
    b = call.body
    call.subject = b["label"]
    bad: list[BadLine] = []
    report = await ops.import_dnc(
        call.context.store,
        call.act(),
        parse_numbers(b["numbers"], call.context.region),
        label=b["label"],
        tenant=b["tenant"],
        source=b["source"],
        reason=b["reason"],
        on_bad_line=bad.append,
    )
    return respond(
        {
            "inserted": report.inserted,
            "unchanged": report.unchanged,
            "bad": [{"index": item.line_no - 1, "reason": item.reason} for item in bad],
        }
    )


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
        "Is a number on a do-not-call list (the tenant's and campaign's, or any list)?",
        {200: Reply("The live entries that block calls to it", ref("DncCheck"))},
        query=(
            Field("number", Phone(), required=True),
            Field("tenant", text(64), description="Only what bars its calls (default: any)."),
            Field("campaign", text(100), description="And this campaign's (needs tenant)."),
        ),
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
    Endpoint(
        "POST",
        "/v1/dnc/import",
        import_dnc,
        Access.OPERATE,
        "Put a list of numbers on a do-not-call list (global or a tenant's)",
        {200: Reply("How many were added, already listed, and which were bad", ref("DncImport"))},
        body=(
            Field(
                "numbers",
                text_list(MAX_IMPORT, 40),
                required=True,
                description="Numbers as dialled; bad ones are reported, not imported.",
            ),
            Field("label", text(100), required=True, description="What this list is (audited)."),
            Field("tenant", text(64), description="Tenant scope (default: global)."),
            Field("source", text(40), description="Where the list came from. Default: import."),
            Field("reason", text()),
        ),
    ),
)

"""``POST /v1/text/check``: banned-phrase check of a text, for agent desktops and SMS gateways.

The text is screened against the phrase packs of the tenant's rule packs (its industry's, in
every jurisdiction) plus the operator's ``policy.phrases_file``, with the matcher campaign
scripts go through. Always 200: ``clean`` says whether it may be sent or said, ``hits`` give
every banned phrase with its line and column in the text exactly as sent (never stripped).
Nothing is stored, and the request is not audited: it changes nothing and names nobody, and an
SMS gateway checks every message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..campaigns.records import hit_view
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Kind, invalid, storable, text
from .schemas import BOOL, STRING, array, nullable, record, ref

MAX_TEXT = 5_000
"""Characters: even JSON-escaped at 12 bytes each, a request stays under the 64 KiB body limit."""


@dataclass(frozen=True)
class ExactText(Kind):
    """Text taken as sent: hit positions refer to it, so it is not stripped; may be blank."""

    def parse(self, name: str, value: Any, region: str) -> Any:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise invalid(name, f"must be a string of at most {MAX_TEXT} characters")
        return storable(name, value, controls=True)


async def check_text(call: Call) -> web.Response:
    tenant: str = call.body["tenant"]
    call.subject = tenant
    async with call.context.store.transaction(readonly=True) as tx:
        known = await tx.tenants.get(tenant)
    if known is None:
        raise ApiError(404, "unknown_tenant", f"no tenant {tenant!r}", "tenant")
    check = call.context.phrases.check(known.industry, call.body["text"])
    return respond(
        {
            "clean": check.clean,
            "tenant": tenant,
            "industry": known.industry,
            "packs": list(check.packs),
            "phrase_version": check.phrase_version,
            "hits": [hit_view(hit) for hit in check.hits],
        }
    )


_INT = {"type": "integer"}
HIT = record(
    {
        "line": _INT,
        "column": _INT,
        "end_line": _INT,
        "end_column": _INT,
        "phrase": STRING,
        "pack": STRING,
        "matched_text": STRING,
        "note": nullable(STRING),
    }
)
TEXT_CHECK = record(
    {
        "clean": BOOL,
        "tenant": STRING,
        "industry": STRING,
        "packs": array(STRING),
        "phrase_version": STRING,
        "hits": array(HIT),
    }
)

ENDPOINTS = (
    Endpoint(
        "POST",
        "/v1/text/check",
        check_text,
        Access.OPERATE,
        "Does this text contain phrases the tenant's rule packs ban?",
        {
            200: Reply("The verdict and every hit (line, column, phrase)", TEXT_CHECK),
            404: Reply("No such tenant", ref("Error")),
        },
        body=(
            Field("tenant", text(64), required=True, description="Whose packs apply."),
            Field(
                "text",
                ExactText({"type": "string", "maxLength": MAX_TEXT}),
                required=True,
                description="The script line, chat message or SMS, as it will be used.",
            ),
        ),
        audited=False,
    ),
)

"""``POST /v1/text/check``: banned-phrase check of a text, for agent desktops and SMS gateways.

The text is screened against the phrase packs of the tenant's rule packs (its industry's, in
every jurisdiction) plus the operator's ``policy.phrases_file``, with the matcher campaign
scripts go through. Always 200: ``clean`` says whether it may be sent or said, ``hits`` give
every banned phrase with its line and column in the text exactly as sent (never stripped).
Nothing is stored but the audit entry ``text.check`` (the text's SHA-256 and length, the verdict
and every hit's phrase and place: :mod:`dialguard.ops.scripts`), next to the request's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..ops import scripts as ops
from ..storage.errors import UnknownTenant
from ..storage.script_records import hit_view
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Kind, Reading, invalid, storable, text
from .schemas import BOOL, STRING, array, record, ref

MAX_TEXT = ops.MAX_TEXT
"""Characters: even JSON-escaped at 12 bytes each, a request stays under the 64 KiB body limit."""


@dataclass(frozen=True)
class ExactText(Kind):
    """Text taken as sent: hit positions refer to it, so it is not stripped; may be blank."""

    def parse(self, name: str, value: Any, reading: Reading) -> Any:
        longest = self.schema["maxLength"]
        if not isinstance(value, str) or len(value) > longest:
            raise invalid(name, f"must be a string of at most {longest} characters")
        return storable(name, value, controls=True)


async def check_text(call: Call) -> web.Response:
    tenant: str = call.body["tenant"]
    call.subject = tenant
    try:
        known, check = await ops.check_text(
            call.context.store,
            call.act(),
            call.context.phrases,
            tenant=tenant,
            text=call.body["text"],
        )
    except UnknownTenant:
        raise ApiError(404, "unknown_tenant", f"no tenant {tenant!r}", "tenant") from None
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


TEXT_CHECK = record(
    {
        "clean": BOOL,
        "tenant": STRING,
        "industry": STRING,
        "packs": array(STRING),
        "phrase_version": STRING,
        "hits": array(ref("Hit")),
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
    ),
)

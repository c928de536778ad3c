"""``/v1/audit``: the tamper-evident log of admin actions and API requests, for auditors."""

from __future__ import annotations

from dataclasses import asdict, replace

from aiohttp import web

from ..audit.service import verify
from ..rights.pseudonyms import masked
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Flag, count
from .schemas import array, ref


async def audit_tail(call: Call) -> web.Response:
    """The latest entries, oldest first (like ``audit tail --json``). Numbers are masked in
    them as they are stored, but for the tenants' own access numbers; this also masks any
    entry written before masking covered every spelling."""
    async with call.context.store.transaction(readonly=True) as tx:
        entries = await tx.audit.tail(call.params["limit"] or 20)
        ours = {r.number for r in await tx.numbers.list(include_ended=True)}
    region = call.context.region
    return respond(
        [
            replace(
                e, subject=masked(e.subject, region, ours), detail=masked(e.detail, region, ours)
            )
            for e in entries
        ]
    )


async def audit_verify(call: Call) -> web.Response:
    """Recompute every hash and link, check the log against the configured checkpoints and the
    rows against the entries (like ``audit verify``), in a process of its own, incrementally
    from the last verified checkpoint unless ``full``; ``ok`` is false and ``problems`` name the
    bad entries and rows when it was tampered with. 409 while another verification runs; 503
    when the checkpoint file or key cannot be read."""
    lock = call.context.verifying
    if lock.locked():
        raise ApiError(409, "verifying", "a verification is already running")
    async with lock:
        try:
            report = await verify(call.context.settings, full=bool(call.params["full"]))
        except (ValueError, OSError) as exc:
            raise ApiError(503, "cannot_verify", f"cannot verify: {exc}") from None
    return respond({"ok": report.ok, **asdict(report)})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/audit",
        audit_tail,
        Access.AUDIT,
        "The latest audit log entries, oldest first",
        {200: Reply("Entries", array(ref("AuditEntry")))},
        query=(Field("limit", count(1, 1000), description="Default: 20."),),
    ),
    Endpoint(
        "GET",
        "/v1/audit/verify",
        audit_verify,
        Access.AUDIT,
        "Verify the audit log's hash chain, Merkle root, signed checkpoints and vouched rows",
        {
            200: Reply("The verification report", ref("AuditReport")),
            409: Reply("Another verification is running", ref("Error")),
        },
        query=(
            Field(
                "full",
                Flag(),
                description="Re-read everything (default: from the last verified checkpoint).",
            ),
        ),
    ),
)

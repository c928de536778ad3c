"""``/v1/recordings``: recording metadata only, in the shape of ``recordings list/show --json``.
Audio never leaves through this resource: a data subject gets theirs through a DSR export.
Caller and callee of a tenant whose rule pack marks its data sensitive (healthcare) are masked
(:mod:`dialguard.rights.sensitive`)."""

from __future__ import annotations

from aiohttp import web

from ..recording.views import event_view, recording_view
from ..rights.sensitive import tenant_rules
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import not_found
from .fields import Field, Flag, Instant, Phone, count, text
from .schemas import array, ref


async def list_recordings(call: Call) -> web.Response:
    """Newest call first."""
    p = call.params
    call.subject_number = p["callee"]
    async with call.context.store.transaction(readonly=True) as tx:
        rows = await tx.recordings.list(
            p["tenant"], p["since"], p["limit"] or 50, bool(p["include_deleted"]), p["callee"]
        )
        rules = await tenant_rules(tx, call.context.gate.book)
    return respond([rules.view(r.tenant, recording_view(r)) for r in rows])


async def get_recording(call: Call) -> web.Response:
    """Metadata and custody history (holds, anchor changes, deletion)."""
    recording_id: int = call.params["recording_id"]
    call.subject = str(recording_id)
    async with call.context.store.transaction(readonly=True) as tx:
        recording = await tx.recordings.get(recording_id)
        events = await tx.recordings.events(recording_id) if recording else ()
        rules = await tenant_rules(tx, call.context.gate.book)
    if recording is None:
        raise not_found(f"recording {recording_id}")
    view = recording_view(recording) | {"events": [event_view(e) for e in events]}
    return respond(rules.view(recording.tenant, view))


ENDPOINTS = (
    Endpoint(
        "GET",
        "/v1/recordings",
        list_recordings,
        Access.AUDIT,
        "Recording metadata, newest call first",
        {200: Reply("Recordings", array(ref("Recording")))},
        query=(
            Field("callee", Phone(), description="Only calls to this number."),
            Field("tenant", text(64)),
            Field("since", Instant(), description="Calls that ended at or after this instant."),
            Field("limit", count(1, 10_000), description="Default: 50."),
            Field("include_deleted", Flag(), description="Also deleted ones' tombstones."),
        ),
    ),
    Endpoint(
        "GET",
        "/v1/recordings/{recording_id}",
        get_recording,
        Access.AUDIT,
        "One recording's metadata and custody events",
        {200: Reply("Metadata and events", ref("RecordingDetail"))},
        path_params=(Field("recording_id", count(1, 2**62), required=True),),
    ),
)

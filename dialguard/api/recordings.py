"""``/v1/recordings``: recording metadata only, in the shape of ``recordings list/show --json``,
and legal holds and retention anchors (like ``recordings hold/release/anchor``). Audio never
leaves through this resource: a data subject gets theirs through a DSR export.
Caller and callee of a tenant whose rule pack marks its data sensitive (healthcare) are masked
(:mod:`dialguard.rights.sensitive`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..ops import recordings as ops
from ..ops.audited import Actor
from ..recording.views import event_view, recording_view
from ..rights.sensitive import tenant_rules
from ..storage.recording_records import RecordingNotFound, RecordingStateError
from ..storage.store import Store
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError, not_found
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


async def hold_recording(call: Call) -> web.Response:
    """Put a recording on legal hold: no retention sweep deletes it until it is released."""
    return await _change(call, ops.hold)


async def release_recording(call: Call) -> web.Response:
    """Lift a legal hold (the next sweep deletes the recording if its time is up)."""
    return await _change(call, ops.release)


async def anchor_recording(call: Call) -> web.Response:
    """Record when the retention class's anchor event (a contract's end…) happened: the
    recording is then kept until that instant plus the class's minimum period."""
    recording_id: int = call.params["recording_id"]
    call.subject = str(recording_id)
    b = call.body
    try:
        await ops.set_anchor(call.context.store, call.act(), recording_id, b["at"], b["reason"])
    except RecordingNotFound:
        raise not_found(f"recording {recording_id}") from None
    except RecordingStateError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return await get_recording(call)


async def _change(
    call: Call, change: Callable[[Store, Actor, int, str], Awaitable[object]]
) -> web.Response:
    recording_id: int = call.params["recording_id"]
    call.subject = str(recording_id)
    try:
        await change(call.context.store, call.act(), recording_id, call.body["reason"])
    except RecordingNotFound:
        raise not_found(f"recording {recording_id}") from None
    except RecordingStateError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return await get_recording(call)


_RECORDING_ID = (Field("recording_id", count(1, 2**62), required=True),)
_REASON = Field("reason", text(), required=True, description="Why (kept in its history).")
_CHANGED = {
    200: Reply(
        "The recording's metadata and custody events, after the change", ref("RecordingDetail")
    ),
    409: Reply("Not applicable to the recording as it is (deleted, already held…)", ref("Error")),
}

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
        path_params=_RECORDING_ID,
    ),
    Endpoint(
        "POST",
        "/v1/recordings/{recording_id}/hold",
        hold_recording,
        Access.OPERATE,
        "Put a recording on legal hold",
        _CHANGED,
        path_params=_RECORDING_ID,
        body=(_REASON,),
    ),
    Endpoint(
        "POST",
        "/v1/recordings/{recording_id}/release",
        release_recording,
        Access.OPERATE,
        "Release a recording's legal hold",
        _CHANGED,
        path_params=_RECORDING_ID,
        body=(_REASON,),
    ),
    Endpoint(
        "POST",
        "/v1/recordings/{recording_id}/anchor",
        anchor_recording,
        Access.OPERATE,
        "Record when a recording's retention anchor event happened",
        _CHANGED,
        path_params=_RECORDING_ID,
        body=(
            Field("at", Instant(), required=True, description="When the event happened."),
            _REASON,
        ),
    ),
)

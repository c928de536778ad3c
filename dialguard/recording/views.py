"""The JSON shape of a recording, shared by ``dialguard recordings … --json``, the audit details,
the admin API's ``/v1/recordings`` and the console: the metadata flat, the retention terms under
``retention``."""

from __future__ import annotations

from typing import Any

from ..storage.recording_records import Recording, RecordingEvent
from ..views import jsonable


def recording_view(rec: Recording) -> dict[str, Any]:
    view: dict[str, Any] = jsonable(rec)
    view.pop("terms")
    # "played", "missing" (required, not played: flagged) or None (no notice was required).
    view["notice"] = None if rec.notice is None else rec.notice.status.value
    view["notice_prompt"] = None if rec.notice is None else rec.notice.prompt
    terms = rec.terms
    view["retention"] = {
        "class": terms.retention_class,
        "legal_basis": terms.legal_basis,
        "anchor_event": terms.anchor_event,
        "anchor_at": jsonable(terms.anchor_at),
        "min_days": terms.min_days,
        "retain_until": jsonable(terms.retain_until),
    }
    return view


def event_view(event: RecordingEvent) -> dict[str, Any]:
    view: dict[str, Any] = jsonable(event)
    view.pop("recording_id")
    return view

"""The values the recording code passes around: immutable, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CallSource:
    """What the gate decided about the call a recording belongs to."""

    decision_id: str
    call_id: str | None
    caller: str
    callee: str
    tenant: str
    retention_class: str | None
    decided_at: datetime
    notice_required: bool = False
    """The decision required the recording notice: a recording without the PBX's report of it
    is flagged as if it had not played."""


@dataclass(frozen=True)
class RetentionTerms:
    """How long one recording must be kept, copied from its retention class at ingest.

    ``retain_until`` is None while the anchor event (e.g. contract end) has not happened: such a
    recording is kept until :func:`~dialguard.recording.retention.set_anchor` fixes it.
    """

    retention_class: str
    legal_basis: str
    anchor_event: str
    anchor_at: datetime | None
    min_days: int
    retain_until: datetime | None


class NoticeStatus(enum.StrEnum):
    """Whether the recording notice played to the callee before the recording started."""

    PLAYED = "played"
    MISSING = "missing"
    """Required (the dialplan was told to play it) but it did not play: the entry is flagged."""


@dataclass(frozen=True)
class Notice:
    """What the PBX reported beside the recording (``dg-<id>.notice``): the status and the
    sound it was to play (``agi.notice_prompt``)."""

    status: NoticeStatus
    prompt: str


@dataclass(frozen=True)
class NewRecording:
    name: str
    source: CallSource
    started_at: datetime
    ended_at: datetime
    duration_ms: int | None
    size_bytes: int
    sha256: str
    key_id: str
    region: str
    vault_path: str
    terms: RetentionTerms
    ingested_at: datetime
    notice: Notice | None = None
    """None: no notice was required for the call. The decision's notice outcome is set from it
    in the same transaction (:meth:`~dialguard.storage.recordings.RecordingRepository.add`)."""


@dataclass(frozen=True)
class Recording:
    id: int
    name: str
    decision_id: str
    call_id: str | None
    caller: str
    callee: str
    tenant: str
    started_at: datetime
    ended_at: datetime
    duration_ms: int | None
    size_bytes: int
    sha256: str
    key_id: str
    region: str
    vault_path: str
    terms: RetentionTerms
    legal_hold: bool
    hold_reason: str | None
    hold_by: str | None
    hold_at: datetime | None
    ingested_at: datetime
    deleted_at: datetime | None
    deleted_by: str | None
    deleted_hash: str | None
    notice: Notice | None = None
    """The recording notice: played, or missing (flagged); None when none was required."""

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


class EventAction(enum.StrEnum):
    HOLD = "hold"
    RELEASE = "release"
    ANCHOR = "anchor"
    DELETE = "delete"


@dataclass(frozen=True)
class RecordingEvent:
    recording_id: int
    at: datetime
    action: EventAction
    actor: str
    reason: str


class RecordingNotFound(LookupError):
    pass


class RecordingStateError(ValueError):
    """The operation does not apply to the recording as it is (deleted, already on hold, …)."""

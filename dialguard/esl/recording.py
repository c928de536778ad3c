"""Where finished recordings go: the encrypted vault implements :class:`RecordingSink`.

The gate learns a recording is complete from two events of the call: ``RECORD_STOP`` (its
``Record-File-Path`` is the file FreeSWITCH wrote, ``$${recordings_dir}`` expanded) and
``CHANNEL_HANGUP_COMPLETE`` (answer and hangup times). Times are FreeSWITCH's, in microseconds
since the epoch, so no clock is read here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Protocol

from .parser import Event


class RecordingSink(Protocol):
    async def recording_finished(
        self,
        decision_id: str,
        uniqueid: str,
        path: str,
        started: datetime | None,
        ended: datetime | None,
    ) -> None: ...


class NullRecordingSink:
    """The default: recordings stay where FreeSWITCH wrote them."""

    async def recording_finished(
        self,
        decision_id: str,
        uniqueid: str,
        path: str,
        started: datetime | None,
        ended: datetime | None,
    ) -> None:
        return None


def event_time(event: Event | None, header: str) -> datetime | None:
    """``Caller-Channel-Answered-Time`` and the like: µs since the epoch, ``0`` for never."""
    raw = event.get(header) if event is not None else ""
    if not raw.isdigit() or int(raw) == 0:
        return None
    return datetime.fromtimestamp(int(raw) / 1_000_000, UTC)


def is_ours(stop: Event, recording: str) -> bool:
    """True when the RECORD_STOP is for the file dialguard started (the operator's dialplan may
    record the same channel too)."""
    return PurePosixPath(stop.get("Record-File-Path")).name == f"{recording}.wav"

"""Where finished recordings go: the encrypted vault implements :class:`RecordingSink`.

The gate learns a recording is complete from two events of the call: ``RECORD_STOP`` (its
``Record-File-Path`` is the file FreeSWITCH wrote, ``$${recordings_dir}`` expanded) and
``CHANNEL_HANGUP_COMPLETE`` (answer and hangup times). Times are FreeSWITCH's, in microseconds
since the epoch, so no clock is read here.

``Record-File-Path`` is whatever the peer on the socket says, and the sink copies that file into
the vault and deletes it: :func:`recording_file` lets through only a regular file directly in
the configured recordings directory (``esl.recordings_dir``, an absolute path), checked with
``lstat`` so that a symlink, a FIFO, a device or a directory in its place is refused, as is any
``.``/``..`` component or a file with other hard links. Anything refused is left where it is.
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
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


class UnsafeRecordingPath(ValueError):
    """The file a ``RECORD_STOP`` names is not one the gate may take; the message says why."""


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISSOCK, "a socket"),
)


def recording_file(path: str, directory: str) -> Path:
    """``path`` if it is a regular file directly in ``directory``, else
    :class:`UnsafeRecordingPath`. Only the last component is looked at on disk, with ``lstat``
    (never followed); the others must spell ``directory`` itself, which the operator configured
    (it may be a symlink of theirs). Blocking: run it in a thread."""
    if not directory.startswith("/"):
        raise UnsafeRecordingPath(
            f"esl.recordings_dir {directory!r} is not an absolute path: no file can be checked"
        )
    if not path.startswith("/") or "\0" in path:
        raise UnsafeRecordingPath("not an absolute path")
    if any(part in {".", ".."} for part in path.split("/")):
        raise UnsafeRecordingPath("has a '.' or '..' component")
    candidate = PurePosixPath(path)
    if candidate.parent != PurePosixPath(directory) or not candidate.name:
        raise UnsafeRecordingPath("not directly in esl.recordings_dir")
    local = Path(directory) / candidate.name
    try:
        info = os.lstat(local)
    except OSError as exc:
        raise UnsafeRecordingPath(exc.strerror or "cannot be read") from None
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise UnsafeRecordingPath(f"is {kind}, not a regular file")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeRecordingPath("not a regular file")
    if info.st_nlink != 1:
        raise UnsafeRecordingPath(f"has {info.st_nlink} hard links")
    return local

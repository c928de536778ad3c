"""The spool sweep: the safety net that ingests recordings no AMI event announced (dialguard was
down, AMI was disconnected, or the PBX is FreeSWITCH).

The rule — a swept file is ingested only when it is certainly finished:

* its name is ``dg-<key>.wav`` (anything else in the directory is not ours and is left alone);
* it has not changed for ``spool_min_age_s`` **and** the PBX reports no active channel with the
  uniqueid ``<key>`` (the list comes from AMI ``CoreShowChannels``) — a live MixMonitor writes a
  frame every 20 ms, and the channel list covers a call that is silent or on hold;
* without such a list (no AMI, or ``<key>`` is a decision id rather than a uniqueid), only
  after ``spool_orphan_age_s`` unchanged — long past any real call.

Ingesting an open file would lose the rest of the call, so every doubt means "not yet".
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..settings.esl import EslSettings
from ..settings.recording import RecordingSettings
from .ingest import IngestError, IngestResult, spool_key
from .names import ASTERISK_UNIQUEID
from .retention import UnknownRetentionClass


def ready(
    key: str,
    modified_at: datetime,
    now: datetime,
    active: frozenset[str] | None,
    min_age: timedelta,
    orphan_age: timedelta,
) -> bool:
    """Whether a swept spool file may be ingested (see the module docstring)."""
    age = now - modified_at
    if active is None or not ASTERISK_UNIQUEID.fullmatch(key):
        return age >= orphan_age
    return key not in active and age >= min_age


@dataclass(frozen=True)
class SpoolSweepReport:
    ingested: tuple[IngestResult, ...]
    waiting: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]


def _candidates(spool_dir: Path) -> list[tuple[Path, str, datetime]]:
    found = []
    with os.scandir(spool_dir) as entries:
        for entry in entries:
            parsed = spool_key(Path(entry.name))
            if parsed is not None and entry.is_file(follow_symlinks=False):
                mtime = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                found.append((Path(entry.path), parsed[1], mtime))
    return sorted(found, key=lambda item: item[2])


async def sweep_spool(
    spool_dir: Path,
    ingest: Callable[[Path], Awaitable[IngestResult]],
    now: datetime,
    active: frozenset[str] | None,
    min_age: timedelta,
    orphan_age: timedelta,
) -> SpoolSweepReport:
    """Ingest every finished recording in ``spool_dir``; one failure does not stop the rest."""
    ingested: list[IngestResult] = []
    waiting: list[str] = []
    failed: list[tuple[str, str]] = []
    for path, key, modified_at in await asyncio.to_thread(_candidates, spool_dir):
        if not ready(key, modified_at, now, active, min_age, orphan_age):
            waiting.append(path.name)
            continue
        try:
            ingested.append(await ingest(path))
        except (IngestError, UnknownRetentionClass, OSError) as exc:
            failed.append((path.name, f"{type(exc).__name__}: {exc}"))
    return SpoolSweepReport(tuple(ingested), tuple(waiting), tuple(failed))


def spool_dirs(recording: RecordingSettings, esl: EslSettings) -> tuple[Path, ...]:
    """The directories the PBXs record into, which the gate ingests from: no export goes there.
    (``esl.recordings_dir`` counts when it is a path rather than a FreeSWITCH variable.)"""
    found = [Path(recording.spool_dir)]
    if Path(esl.recordings_dir).is_absolute():
        found.append(Path(esl.recordings_dir))
    return tuple(found)

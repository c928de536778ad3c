"""Ingest: a finished spool file → hashed and encrypted into its region's vault → metadata row
committed → spool file removed, strictly in that order.

Crash safety follows from the order. Until the row is committed the spool file is untouched, so
a crash leaves the spool file (and perhaps an unreferenced vault file or temp file, which the
re-run overwrites or removes). After the commit, a crash leaves the spool file *and* the
complete vault entry; the re-run finds the row by name, checks the spool file has the recorded
SHA-256 and only then removes it. The unique recording name makes a second row impossible.

File work runs in a thread: a large recording must not stall the call path sharing the loop.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import re
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from ..files.durable import remove_durably
from ..storage.recording_records import CallSource, NewRecording, Notice, NoticeStatus, Recording
from ..storage.recordings import HasRecordings, RecordingStore
from .notice import read_notice, remove_notice
from .retention import RetentionPolicy
from .vault import Sealed, Vault

TxT = TypeVar("TxT", bound=HasRecordings)

SPOOL_NAME = re.compile(r"(dg-([A-Za-z0-9][A-Za-z0-9._:-]{0,100}))\.wav")
"""``dg-<uniqueid>.wav`` or ``dg-<decision id>.wav`` as the gate names them (``names.py``)."""
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CHECKPOINTS = ("sealed", "renamed", "committed", "removed")
"""The steps after which :class:`Ingestor`'s ``checkpoint`` hook is called (crash tests)."""


class IngestError(RuntimeError):
    """The spool file was left where it is; the message says why."""


class NoDecision(IngestError):
    pass


class SpoolConflict(IngestError):
    """A recording of this name exists with a different hash: both are kept for a human."""


class Outcome(enum.StrEnum):
    INGESTED = "ingested"
    ALREADY_INGESTED = "already-ingested"


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    recording: Recording


def spool_key(path: Path) -> tuple[str, str] | None:
    """``(name, key)`` of a spool file, e.g. ``("dg-1754470000.7", "1754470000.7")``."""
    match = SPOOL_NAME.fullmatch(path.name)
    return None if match is None else (match.group(1), match.group(2))


def vault_relpath(source: CallSource, name: str) -> str:
    """``<tenant>/<yyyy>/<mm>/<dd>/<name>.dgr``; a tenant name unfit for a path is hashed."""
    tenant = source.tenant
    if not _SAFE_COMPONENT.fullmatch(tenant):
        tenant = "t-" + hashlib.sha256(tenant.encode()).hexdigest()[:16]
    return f"{tenant}/{source.decided_at.astimezone(UTC):%Y/%m/%d}/{name}.dgr"


def wav_duration_ms(path: Path) -> int | None:
    """From the WAV header; None if it cannot be read (the audio is kept regardless)."""
    try:
        with wave.open(str(path), "rb") as audio:
            rate = audio.getframerate()
            return round(audio.getnframes() * 1000 / rate) if rate else None
    except (wave.Error, EOFError, OSError):
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _no_checkpoint(step: str) -> None:
    """The production hook: crash tests pass one that kills the process at ``step``."""
    del step


class _NamedLocks:
    """One asyncio lock per name, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        lock, users = self._entries.setdefault(name, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._entries[name]


class Ingestor(Generic[TxT]):
    """``then`` runs in the transaction that adds the metadata row (the caller's audit entry,
    which commits with the row or not at all)."""

    def __init__(
        self,
        store: RecordingStore[TxT],
        vault: Vault,
        policy: RetentionPolicy,
        region_for: Callable[[str], str],
        clock: Callable[[], datetime],
        checkpoint: Callable[[str], None] = _no_checkpoint,
        then: Callable[[TxT, Recording], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._vault = vault
        self._policy = policy
        self._region_for = region_for
        self._clock = clock
        self._checkpoint = checkpoint
        self._then = then
        self._locks = _NamedLocks()

    async def ingest(self, spool_file: Path) -> IngestResult:
        """Idempotent; concurrent calls for one file (AMI event and sweep) run one at a time."""
        parsed = spool_key(spool_file)
        if parsed is None:
            raise IngestError(f"{spool_file.name}: not a dialguard recording name")
        name, key = parsed
        async with self._locks.hold(name):
            return await self._ingest(spool_file, name, key)

    async def _ingest(self, spool_file: Path, name: str, key: str) -> IngestResult:
        async with self._store.transaction(readonly=True) as tx:
            existing = await tx.recordings.get_by_name(name)
            source = None if existing else await tx.recordings.source_for(key)
        if existing is not None:
            return await self._finish(spool_file, existing)
        if source is None:
            raise NoDecision(f"{name}: no allowed, recorded decision for {key!r}")
        stat = await asyncio.to_thread(spool_file.stat)
        ended_at = datetime.fromtimestamp(stat.st_mtime, UTC)
        duration_ms = await asyncio.to_thread(wav_duration_ms, spool_file)
        notice = await asyncio.to_thread(read_notice, spool_file)
        if notice is None and source.notice_required:
            notice = Notice(NoticeStatus.MISSING, "")  # required, and the PBX did not say
        started_at = (
            source.decided_at
            if duration_ms is None
            else ended_at - timedelta(milliseconds=duration_ms)
        )
        terms = self._policy.terms_for(source.retention_class, ended_at)
        region = self._region_for(source.tenant)
        relative = vault_relpath(source, name)
        sealed = await asyncio.to_thread(self._seal, spool_file, region, relative)
        self._checkpoint("renamed")
        new = NewRecording(
            name,
            source,
            started_at,
            ended_at,
            duration_ms,
            sealed.size,
            sealed.sha256,
            sealed.key_id,
            region,
            relative,
            terms,
            self._clock(),
            notice,
        )
        async with self._store.transaction() as tx:
            added = await tx.recordings.add(new)
            if added is not None and self._then is not None:
                await self._then(tx, added)
            recording = added or await tx.recordings.get_by_name(name)
        assert recording is not None
        self._checkpoint("committed")
        if added is None:
            return await self._finish(spool_file, recording)
        await asyncio.to_thread(remove_durably, spool_file)
        await asyncio.to_thread(remove_notice, spool_file)
        self._checkpoint("removed")
        return IngestResult(Outcome.INGESTED, recording)

    def _seal(self, spool_file: Path, region: str, relative: str) -> Sealed:
        with spool_file.open("rb") as source:
            return self._vault.seal(
                region, relative, source, before_rename=lambda: self._checkpoint("sealed")
            )

    async def _finish(self, spool_file: Path, recording: Recording) -> IngestResult:
        """The row exists: the spool file is a leftover copy if its hash matches."""
        try:
            digest = await asyncio.to_thread(file_sha256, spool_file)
        except FileNotFoundError:
            await asyncio.to_thread(remove_notice, spool_file)
            return IngestResult(Outcome.ALREADY_INGESTED, recording)
        if digest != recording.sha256:
            raise SpoolConflict(
                f"{spool_file.name}: recording {recording.id} has sha256 {recording.sha256}, "
                f"the spool file {digest}; both kept"
            )
        await asyncio.to_thread(remove_durably, spool_file)
        await asyncio.to_thread(remove_notice, spool_file)
        self._checkpoint("removed")
        return IngestResult(Outcome.ALREADY_INGESTED, recording)

"""Verify and export: decrypt a recording and prove it is the audio that was ingested.

Two kinds of failure are reported apart: ``tampered`` — the encrypted file fails authentication
(a changed byte, truncation, reordered chunks, a damaged header) — and ``hash-mismatch`` — it
decrypts cleanly but is not the original (e.g. another recording's file put in its place).

Both functions block on file I/O; async callers run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .container import Tampered
from .fsutil import atomic_write
from .keys import UnknownKey
from .records import Recording, RecordingStateError
from .vault import RegionViolation, Vault


class Integrity(enum.StrEnum):
    OK = "ok"
    TAMPERED = "tampered"
    HASH_MISMATCH = "hash-mismatch"
    MISSING = "missing"
    UNKNOWN_KEY = "unknown-key"


@dataclass(frozen=True)
class VerifyResult:
    recording_id: int
    status: Integrity
    detail: str

    @property
    def ok(self) -> bool:
        return self.status is Integrity.OK


class IntegrityError(RuntimeError):
    def __init__(self, result: VerifyResult) -> None:
        super().__init__(f"recording {result.recording_id}: {result.status}: {result.detail}")
        self.result = result


def _decrypt_into(vault: Vault, recording: Recording, sink: BinaryIO | None) -> VerifyResult:
    digest = hashlib.sha256()
    try:
        for chunk in vault.plaintext(recording.region, recording.vault_path):
            digest.update(chunk)
            if sink is not None:
                sink.write(chunk)
    except FileNotFoundError:
        return VerifyResult(recording.id, Integrity.MISSING, "the vault file is missing")
    except Tampered as exc:
        return VerifyResult(recording.id, Integrity.TAMPERED, str(exc))
    except UnknownKey as exc:
        return VerifyResult(recording.id, Integrity.UNKNOWN_KEY, str(exc))
    actual = digest.hexdigest()
    if actual != recording.sha256:
        return VerifyResult(
            recording.id,
            Integrity.HASH_MISMATCH,
            f"decrypts to sha256 {actual}, ingested as {recording.sha256}",
        )
    return VerifyResult(recording.id, Integrity.OK, f"sha256 {actual}")


def verify(vault: Vault, recording: Recording) -> VerifyResult:
    if recording.deleted:
        raise RecordingStateError(f"recording {recording.id} was deleted at {recording.deleted_at}")
    return _decrypt_into(vault, recording, None)


@dataclass(frozen=True)
class ExportResult:
    recording_id: int
    path: Path
    sha256: str
    forced_region: str | None
    """The other region the file was written into because ``force_region`` was given: the caller
    must audit this."""


def export(
    vault: Vault, recording: Recording, out_path: Path, *, force_region: bool = False
) -> ExportResult:
    """Decrypt to ``out_path`` (a WAV, mode 0600), written only if the hash matches.

    Writing into another region's vault root is refused (:class:`RegionViolation`) unless
    ``force_region``; failing verification raises :class:`IntegrityError` and leaves no file.
    """
    if recording.deleted:
        raise RecordingStateError(f"recording {recording.id} was deleted at {recording.deleted_at}")
    target_region = vault.region_of(out_path)
    forced = None
    if target_region is not None and target_region != recording.region:
        if not force_region:
            raise RegionViolation(
                f"{out_path} is in region {target_region!r}; recording {recording.id} belongs "
                f"to {recording.region!r} (force to override; it will be audited)"
            )
        forced = target_region

    def write(handle: BinaryIO) -> None:
        result = _decrypt_into(vault, recording, handle)
        if not result.ok:
            raise IntegrityError(result)

    atomic_write(out_path, write)
    return ExportResult(recording.id, out_path, recording.sha256, forced)

"""Verify and export: decrypt a recording and prove it is the audio that was ingested.

Two kinds of failure are reported apart: ``tampered`` — the encrypted file fails authentication
(a changed byte, truncation, reordered chunks, a damaged header) — and ``hash-mismatch`` — it
decrypts cleanly but is not the original (e.g. another recording's file put in its place).

Both functions block on file I/O; async callers run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..files.durable import atomic_write
from ..storage.recording_records import Recording, RecordingStateError
from .container import Tampered
from .keys import UnknownKey
from .vault import Vault


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
    replaced: bool
    """An existing file was replaced (``replace=True``): the caller audits it."""


class ExportRefused(PermissionError):
    """An output path an export must not write; the message names it and why."""


def refuse_protected(out_path: Path, vault: Vault, protected: Sequence[Path]) -> None:
    """Refuse an output path that is, its symlinks resolved, inside a vault region's root (a
    plaintext file there could take a recording's place) or one of the ``protected`` directories
    (the PBX spools: a file there would be ingested as a recording)."""
    resolved = out_path.resolve()
    region = vault.region_of(resolved)
    if region is not None:
        raise ExportRefused(
            f"{out_path} is inside the vault of region {region!r} ({vault.roots[region]}): "
            "decrypted audio never goes into the vault; choose a path outside it"
        )
    for directory in protected:
        root = directory.resolve()
        if resolved == root or root in resolved.parents:
            raise ExportRefused(
                f"{out_path} is inside the recording spool {directory}: files there are "
                "ingested as recordings; choose a path outside it"
            )


def export(
    vault: Vault,
    recording: Recording,
    out_path: Path,
    *,
    protected: Sequence[Path] = (),
    replace: bool = False,
) -> ExportResult:
    """Decrypt to ``out_path`` (a WAV, mode 0600), written only if the hash matches.

    Refused (:class:`ExportRefused`) inside the vault or a ``protected`` directory
    (:func:`refuse_protected`), and over an existing file unless ``replace``; failing
    verification raises :class:`IntegrityError` and leaves no file.
    """
    if recording.deleted:
        raise RecordingStateError(f"recording {recording.id} was deleted at {recording.deleted_at}")
    refuse_protected(out_path, vault, protected)
    existed = out_path.exists() or out_path.is_symlink()
    if existed and not replace:
        raise _exists(out_path)

    def write(handle: BinaryIO) -> None:
        result = _decrypt_into(vault, recording, handle)
        if not result.ok:
            raise IntegrityError(result)

    try:
        atomic_write(out_path, write, replace=replace)
    except FileExistsError:  # created since the check above
        raise _exists(out_path) from None
    return ExportResult(recording.id, out_path, recording.sha256, existed)


def _exists(out_path: Path) -> ExportRefused:
    return ExportRefused(f"{out_path} exists; refusing to replace it (force to replace)")

"""Helpers for tests of the recording code (and drills): WAV files like MixMonitor's, and a
vault, spool and ingestor on a :class:`~dialguard.storage.Store`, auditing ingests as ``serve``
does.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..policy.book import load_pack
from ..recording.ingest import Ingestor
from ..recording.keys import create_keyring, load_keyring
from ..recording.retention import RetentionPolicy
from ..recording.vault import Vault
from ..settings.recording import RecordingSettings
from ..storage import Store, Transaction
from .audited import Actor
from .recording_runtime import ACTOR
from .recordings import ingest_hook


def write_wav(path: Path, seconds: float, rate: int = 8000, seed: int = 1) -> bytes:
    """A 16-bit mono PCM WAV of ``seconds`` with varied samples; returns the file's bytes."""
    frames = bytes((seed * 31 + i * 7) % 251 for i in range(int(seconds * rate) * 2))
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(frames)
    return path.read_bytes()


@dataclass
class Rig:
    """A vault with regions ``cn`` and ``eu`` (tenant ``globex`` is in ``eu``), a spool
    directory and an ingestor, all under ``base``, on ``store``."""

    store: Store
    vault: Vault
    ingestor: Ingestor[Transaction]
    spool: Path
    settings: RecordingSettings


def make_rig(
    store: Store,
    base: Path,
    now: datetime,
    checkpoint: Callable[[str], None] | None = None,
    chunk_size: int = 4096,
) -> Rig:
    settings = RecordingSettings(
        spool_dir=str(base / "spool"),
        keyring_file=str(base / "keys.json"),
        regions=f"cn={base / 'vault-cn'},eu={base / 'vault-eu'}",
        tenant_regions="globex=eu",
    )
    keyring_path = Path(settings.keyring_file)
    keyring = (
        load_keyring(keyring_path) if keyring_path.exists() else create_keyring(keyring_path, now)
    )
    vault = Vault(settings.regions_map(), keyring, chunk_size)
    ingestor = Ingestor(
        store,
        vault,
        RetentionPolicy.from_pack(load_pack("cn")),
        settings.region_for,
        lambda: now,
        checkpoint or (lambda step: None),
        then=ingest_hook(lambda: Actor(ACTOR, now)),
    )
    Path(settings.spool_dir).mkdir(parents=True, exist_ok=True)
    return Rig(store, vault, ingestor, Path(settings.spool_dir), settings)

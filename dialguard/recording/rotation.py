"""Master key rotation (``dialguard keys rotate``): add a key, then rewrap every live recording's
data key under it. Only the key slot of each file is rewritten; the audio ciphertext is copied
byte for byte, so rotation never re-encrypts audio and old backups stay verifiable.

The new key is saved *before* any file uses it, and old keys stay in the keyring, so a crash at
any point leaves every file readable; :func:`rewrap_all` on its own resumes an interrupted run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..storage.recordings import HasRecordings, RecordingStore
from .container import Tampered
from .keys import load_keyring, save_keyring
from .vault import Vault


@dataclass(frozen=True)
class RotationReport:
    key_id: str
    rewrapped: int
    already_current: int
    missing: tuple[int, ...]
    failed: tuple[tuple[int, str], ...]


def add_master_key(keyring_path: Path, now: datetime) -> str:
    """Add a new current master key to the keyring file; returns its id."""
    keyring = load_keyring(keyring_path).with_new_key(now)
    save_keyring(keyring_path, keyring)
    return keyring.current


async def rewrap_all(store: RecordingStore[HasRecordings], vault: Vault) -> RotationReport:
    """Rewrap every live recording under ``vault.keyring.current`` and record the key id."""
    async with store.transaction(readonly=True) as tx:
        ids = await tx.recordings.live_ids()
    rewrapped = current = 0
    missing: list[int] = []
    failed: list[tuple[int, str]] = []
    for recording_id in ids:
        async with store.transaction(readonly=True) as tx:
            rec = await tx.recordings.get(recording_id)
        if rec is None or rec.deleted:
            continue
        try:
            new_key = await asyncio.to_thread(vault.rewrap, rec.region, rec.vault_path)
        except FileNotFoundError:
            missing.append(recording_id)
            continue
        except Tampered as exc:
            failed.append((recording_id, str(exc)))
            continue
        async with store.transaction() as tx:
            rec = await tx.recordings.get(recording_id, lock=True)
            assert rec is not None
            if rec.deleted:
                # The sweep removed it while we rewrote it: our rename must not resurrect it.
                vault.remove(rec.region, rec.vault_path)
                continue
            key_id = new_key or vault.keyring.current
            if rec.key_id != key_id:
                await tx.recordings.set_key_id(recording_id, key_id)
        if new_key is None:
            current += 1
        else:
            rewrapped += 1
    return RotationReport(vault.keyring.current, rewrapped, current, tuple(missing), tuple(failed))


async def rotate(
    store: RecordingStore[HasRecordings], vault: Vault, keyring_path: Path, now: datetime
) -> RotationReport:
    add_master_key(keyring_path, now)
    vault.keyring = load_keyring(keyring_path)
    return await rewrap_all(store, vault)

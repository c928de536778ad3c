"""Keys on the gate host: the recording keyring, its rotation, the audit signing key. Each
creation and rotation is audited (key ids and file paths, never key material)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..audit.checkpoint import SigningKey
from ..recording import rotation
from ..recording.keys import create_keyring
from ..recording.rotation import RotationReport
from ..recording.vault import Vault
from ..storage.store import Store
from .audited import Actor, record


async def init_keyring(store: Store, actor: Actor, path: Path) -> str:
    """Create the recording keyring (never over an existing one); returns the master key id.
    Audited ``keys.init``."""
    keyring = create_keyring(path, actor.now)
    async with store.transaction() as tx:
        detail = {"before": None, "after": {"key_id": keyring.current, "keyring_file": str(path)}}
        await record(tx, actor, "keys.init", keyring.current, detail)
    return keyring.current


async def rotate_keys(
    store: Store, actor: Actor, vault: Vault, path: Path, *, resume: bool = False
) -> RotationReport:
    """Add a new current master key and rewrap every recording's data key under it (``resume``:
    only finish rewrapping under the current one). Audited ``keys.rotate`` with the report."""
    before = vault.keyring.current
    if resume:
        report = await rotation.rewrap_all(store, vault)
    else:
        report = await rotation.rotate(store, vault, path, actor.now)
    async with store.transaction() as tx:
        detail = {
            "before": {"key_id": before},
            "after": {"key_id": report.key_id},
            "resumed": resume,
            **asdict(report),
        }
        await record(tx, actor, "keys.rotate", report.key_id, detail)
    return report


async def init_signing_key(store: Store, actor: Actor, path: Path) -> SigningKey:
    """Create the audit checkpoint signing key (never over an existing one); audited
    ``audit.init-key`` with its key id."""
    key = SigningKey.create(path)
    async with store.transaction() as tx:
        detail = {"before": None, "after": {"key_id": key.key_id, "signing_key_file": str(path)}}
        await record(tx, actor, "audit.init-key", key.key_id, detail)
    return key

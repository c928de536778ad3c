"""The audit operations the CLI and the admin API share: checkpoints and verification (the
signing key's creation is an audited operation, :mod:`dialguard.ops.keys`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..config import Settings
from ..storage.store import Store
from .checkpoint import Checkpoint, SigningKey, load_public_key, read_checkpoints
from .verify import VerifyReport, verify_log
from .writer import CheckpointWriter


async def write_checkpoint(store: Store, settings: Settings, *, now: datetime) -> Checkpoint:
    """Sign a checkpoint of the whole log now and append it to the checkpoint file."""
    key = SigningKey.load(Path(settings.audit.signing_key_file))
    writer = CheckpointWriter(store, key, Path(settings.audit.checkpoint_file))
    checkpoint = await writer.checkpoint(now, force=True)
    assert checkpoint is not None
    return checkpoint


async def verify(
    settings: Settings,
    *,
    checkpoint_file: Path | None = None,
    public_key_file: Path | None = None,
) -> VerifyReport:
    """Verify the log, against ``checkpoint_file`` (default: the configured one, if it exists)
    with ``public_key_file`` (default: the public half of the configured signing key)."""
    path = checkpoint_file or Path(settings.audit.checkpoint_file)
    checkpoints: list[Checkpoint] = []
    public = None
    if checkpoint_file is not None or path.exists():
        checkpoints = read_checkpoints(path)
        public = load_public_key(public_key_file or Path(settings.audit.signing_key_file))
    return await verify_log(settings.database, checkpoints, public)

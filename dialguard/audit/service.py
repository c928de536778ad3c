"""The audit operations the CLI and the admin API share: checkpoints and verification (the
signing key's creation is an audited operation, :mod:`dialguard.ops.keys`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..config import Settings
from ..storage.store import Store
from .checkpoint import Checkpoint, SigningKey
from .verify import OnProgress, VerifyReport
from .verify_process import VerifyRequest, run_verification
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
    full: bool = False,
    on_progress: OnProgress | None = None,
) -> VerifyReport:
    """Verify the log, against ``checkpoint_file`` (default: the configured one, if it exists)
    with ``public_key_file`` (default: the public half of the configured signing key), in a
    process of its own (:mod:`.verify_process`): incrementally from where the last verification
    against that file got to, or everything when ``full``. ``on_progress`` hears how far it is
    (entries then rows, done/total). Raises :class:`~.verify_process.VerificationError` when
    the checkpoints or key cannot be read."""
    path = checkpoint_file or Path(settings.audit.checkpoint_file)
    use_checkpoints = checkpoint_file is not None or path.exists()
    request = VerifyRequest(
        settings.database,
        str(path) if use_checkpoints else None,
        str(public_key_file or Path(settings.audit.signing_key_file)) if use_checkpoints else None,
        full,
    )
    return await run_verification(request, on_progress)

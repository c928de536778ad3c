"""Writing checkpoints: ``dialguard audit checkpoint`` once, ``dialguard serve`` periodically.

The writer keeps a :class:`~.merkle.MerkleAccumulator` between checkpoints, so each one reads
only the entries appended since the last; at start it resumes from the state kept with the
last checkpoint (its peaks, which must fold to its signed root, and its last entry's hash, which
the log must still hold: :func:`~.checkpoint.read_resume_state`), so a restart does not re-read
a log of millions of entries on the gate's event loop. It refuses to sign what it can see is
wrong (an entry whose hash or link does not check out, or a log that no longer matches the
file's last checkpoint): a signature over a tampered log would launder it. Entries before the
resumed checkpoint are not re-read; a rewrite of them shows in the resumed entry's hash (the
chain) or, if not re-hashed, to ``dialguard audit verify``, since a new checkpoint still
commits to the original prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from pathlib import Path

from ..clock import Clock
from ..storage.audit import GENESIS_HASH, entry_hash
from ..storage.errors import StorageError
from ..storage.store import Store
from .checkpoint import (
    Checkpoint,
    SigningKey,
    append_checkpoint,
    read_last_checkpoint,
    read_resume_state,
)
from .merkle import MerkleAccumulator, leaf_hash

log = logging.getLogger("dialguard.audit")

BATCH = 5000


class AuditChainBroken(RuntimeError):
    """The writer found the log inconsistent; run ``dialguard audit verify``."""


class CheckpointWriter:
    def __init__(self, store: Store, key: SigningKey, path: Path) -> None:
        self._store = store
        self._key = key
        self._path = path
        self._tree = MerkleAccumulator()
        self._last_hash = GENESIS_HASH
        self._anchor: Checkpoint | None = read_last_checkpoint(path) if path.exists() else None
        self._resumed: tuple[int, str] | None = None
        self._resume(read_resume_state(path))
        self._signed_size = -1

    def _resume(self, state: Checkpoint | None) -> None:
        """Start from ``state`` (the resume file) if it is ours and consistent with the file's
        last checkpoint: the same one, or an earlier one (a crash before the resume file was
        replaced), which the catch-up then checks the last one against."""
        if state is None or not state.verify(self._key.public):
            return
        resumed = state.resume()
        anchor = self._anchor
        if resumed is None or anchor is None or anchor.tree_size < state.tree_size:
            return
        if anchor.tree_size == state.tree_size and anchor.root_hash != state.root_hash:
            return
        self._tree, self._last_hash = resumed
        self._resumed = (state.tree_size, self._last_hash)
        if anchor.tree_size == state.tree_size:
            self._anchor = None

    async def _check_resumed(self) -> None:
        """The log still holds the entry the resumed checkpoint ended on, unchanged."""
        if self._resumed is None:
            return
        size, last_hash = self._resumed
        if size > 0:
            async with self._store.transaction(readonly=True) as tx:
                found = await tx.audit.after(size - 1, 1)
            if not found:
                raise AuditChainBroken(
                    f"the last checkpoint covers {size} entries, the log has fewer: truncated"
                )
            if found[0][0].hash != last_hash:
                raise AuditChainBroken(
                    f"audit entry {size} no longer matches the last checkpoint: the log was "
                    "rewritten"
                )
        self._resumed = None

    async def _catch_up(self) -> None:
        await self._check_resumed()
        while True:
            async with self._store.transaction(readonly=True) as tx:
                batch = await tx.audit.after(self._tree.size, BATCH)
            for entry, canonical in batch:
                if entry.seq != self._tree.size + 1:
                    raise AuditChainBroken(f"audit entry {self._tree.size + 1} is missing")
                if entry.prev_hash != self._last_hash or entry_hash(canonical) != entry.hash:
                    raise AuditChainBroken(f"audit entry {entry.seq} does not check out")
                self._tree.append(leaf_hash(canonical))
                self._last_hash = entry.hash
                anchor = self._anchor
                if anchor is not None and self._tree.size == anchor.tree_size:
                    if self._tree.root().hex() != anchor.root_hash:
                        raise AuditChainBroken(
                            f"the first {anchor.tree_size} entries no longer match the "
                            f"checkpoint of {anchor.timestamp.isoformat()}"
                        )
                    self._anchor = None
            if len(batch) < BATCH:
                break
        if self._anchor is not None and self._tree.size < self._anchor.tree_size:
            raise AuditChainBroken(
                f"the log has {self._tree.size} entries, the last checkpoint "
                f"{self._anchor.tree_size}: it was truncated"
            )

    async def checkpoint(self, now: datetime, *, force: bool = False) -> Checkpoint | None:
        """Sign and append a checkpoint of the whole log; None when nothing was appended since
        this writer's last one (unless ``force``)."""
        await self._catch_up()
        if self._tree.size == self._signed_size and not force:
            return None
        checkpoint = self._key.sign_tree(self._tree, now, self._last_hash)
        await asyncio.to_thread(append_checkpoint, self._path, checkpoint)
        self._signed_size = self._tree.size
        return checkpoint


class CheckpointTask:
    """Runs :meth:`CheckpointWriter.checkpoint` every ``interval_s`` until stopped. A failure is
    logged (once while it persists) and retried next interval; it never stops the gate."""

    def __init__(self, writer: CheckpointWriter, clock: Clock, interval_s: float) -> None:
        self._writer = writer
        self._clock = clock
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dialguard-audit-checkpoints")

    async def stop(self) -> None:
        """Cancel the loop, then write a final checkpoint so a shutdown leaves none unsigned."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self._once(failing=False)

    async def _once(self, *, failing: bool) -> bool:
        try:
            checkpoint = await self._writer.checkpoint(self._clock.now())
        except (AuditChainBroken, StorageError, OSError) as exc:
            if not failing:
                log.error("audit checkpoint failed", extra={"fields": {"error": str(exc)}})
            return False
        if checkpoint is not None:
            log.info("audit checkpoint", extra={"fields": {"tree_size": checkpoint.tree_size}})
        return True

    async def _run(self) -> None:
        failing = False
        while True:
            failing = not await self._once(failing=failing)
            await asyncio.sleep(self._interval_s)

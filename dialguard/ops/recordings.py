"""Recordings: legal holds, retention anchors, exports, retention deletions and ingests.

Each change is audited in the transaction that makes it (the recording services'
``then`` hooks, the ingestor's too), so it commits with its entry or not at all, and the entry
carries the evidence of the ``recordings`` row as it then stands. Caller and callee, and the digits
in recording names and paths, are masked like every number in the chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..recording import retention
from ..recording.integrity import ExportResult, export
from ..recording.retention import AnchorChange, Deletion, HoldChange, SweepReport
from ..recording.vault import Vault
from ..recording.views import recording_view
from ..storage.recording_records import Recording, RecordingNotFound
from ..storage.store import Store, Transaction
from .audited import Actor, record, required_text


def _hold_hook(actor: Actor, action: str) -> retention.Then[Transaction, HoldChange]:
    async def then(tx: Transaction, change: HoldChange) -> None:
        detail = {
            "recording": change.recording_id,
            "name": change.name,
            "reason": change.reason,
            "before": {"legal_hold": not change.held},
            "after": {"legal_hold": change.held},
        }
        await record(tx, actor, action, str(change.recording_id), detail)

    return then


async def hold(store: Store, actor: Actor, recording_id: int, reason: str) -> HoldChange:
    """Put a recording on legal hold (no sweep deletes it until released); audited
    ``recording.hold``."""
    reason = required_text("reason", reason)
    then = _hold_hook(actor, "recording.hold")
    return await retention.hold(store, recording_id, reason, actor.name, actor.now, then)


async def release(store: Store, actor: Actor, recording_id: int, reason: str) -> HoldChange:
    """Lift a legal hold; audited ``recording.release``."""
    reason = required_text("reason", reason)
    then = _hold_hook(actor, "recording.release")
    return await retention.release(store, recording_id, reason, actor.name, actor.now, then)


async def set_anchor(
    store: Store, actor: Actor, recording_id: int, anchor_at: datetime, reason: str
) -> AnchorChange:
    """Record when the retention class's anchor event happened; audited ``recording.anchor``
    with the terms before and after."""
    reason = required_text("reason", reason)

    async def then(tx: Transaction, change: AnchorChange) -> None:
        detail = {
            "recording": change.recording_id,
            "name": change.name,
            "reason": reason,
            "anchor_event": change.anchor_event,
            "before": {
                "anchor_at": change.before.anchor_at,
                "retain_until": change.before.retain_until,
            },
            "after": {"anchor_at": change.anchor_at, "retain_until": change.retain_until},
        }
        await record(tx, actor, "recording.anchor", str(change.recording_id), detail)

    return await retention.set_anchor(
        store, recording_id, anchor_at, by=actor.name, at=actor.now, reason=reason, then=then
    )


async def export_recording(
    store: Store,
    actor: Actor,
    vault: Vault,
    recording_id: int,
    out: Path,
    *,
    protected: Sequence[Path] = (),
    replace: bool = False,
) -> ExportResult:
    """Decrypt a recording to ``out`` (mode 0600, written only if it has the ingested SHA-256;
    never inside the vault or a ``protected`` spool, never over an existing file unless
    ``replace``); audited ``recording.export``. If the entry cannot be written the file is
    removed: no export without its audit."""
    async with store.transaction(readonly=True) as tx:
        found = await tx.recordings.get(recording_id)
    if found is None:
        raise RecordingNotFound(f"no recording {recording_id}")
    result = await asyncio.to_thread(
        export, vault, found, out, protected=protected, replace=replace
    )
    try:
        async with store.transaction() as tx:
            detail = {
                "recording": found.id,
                "name": found.name,
                "path": str(result.path),
                "sha256": result.sha256,
                "region": found.region,
                "replaced": result.replaced,
            }
            await record(tx, actor, "recording.export", str(found.id), detail)
    except BaseException:
        await asyncio.to_thread(out.unlink, missing_ok=True)
        raise
    return result


def _deletion_detail(deletion: Deletion) -> dict[str, Any]:
    return {
        "recording": deletion.recording_id,
        "name": deletion.name,
        "tenant": deletion.tenant,
        "retain_until": deletion.retain_until,
        "deleted_hash": deletion.deleted_hash,
        "file_missing": deletion.file_missing,
        "before": {"deleted": False},
        "after": {"deleted": True},
    }


async def sweep(store: Store, actor: Actor, vault: Vault, *, dry_run: bool = False) -> SweepReport:
    """Delete every recording past its retain-until and not on hold (as of ``actor.now``), each
    audited ``recording.delete`` in the transaction that tombstones it. ``dry_run``: only say
    what would go (nothing audited)."""

    async def then(tx: Transaction, deletion: Deletion) -> None:
        detail = _deletion_detail(deletion)
        await record(tx, actor, "recording.delete", str(deletion.recording_id), detail)

    return await retention.sweep(store, vault, actor.now, by=actor.name, dry_run=dry_run, then=then)


def ingest_hook(
    actor: Callable[[], Actor],
) -> Callable[[Transaction, Recording], Awaitable[None]]:
    """The :class:`~dialguard.recording.ingest.Ingestor`'s ``then``: audit ``recording.ingest``
    (by ``actor()`` at that moment) in the transaction that adds the recording's row, so the row
    never commits without the entry vouching for it."""

    async def then(tx: Transaction, rec: Recording) -> None:
        detail = {"before": None, "after": recording_view(rec)}
        await record(tx, actor(), "recording.ingest", str(rec.id), detail)

    return then

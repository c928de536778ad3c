"""Retention: keep every recording exactly as long as its legal class requires, then delete it.

Classes are rule-pack data (``[retention.<name>]``: days, legal basis, anchor event). A recording
gets its terms at ingest: anchored on ``call_end`` the clock starts when the call ended; any other
anchor (``contract_end`` for insurance, say) leaves ``retain_until`` empty — kept — until
:func:`set_anchor` records when the event happened. :func:`sweep` deletes exactly what is past
``retain_until`` and not on legal hold; the file goes, the row stays as a tombstone.

The pure rules (:meth:`RetentionPolicy.terms_for`, :func:`is_expired`) take ``now``; the service
functions return what changed, and their optional ``then(tx, change)`` hook runs inside the
transaction that makes each change, so the caller's audit entry commits with it or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from ..policy.pack import RetentionClass, RulePack
from ..storage.recording_records import (
    Recording,
    RecordingNotFound,
    RecordingStateError,
    RetentionTerms,
)
from ..storage.recordings import HasRecordings, RecordingStore
from .vault import Vault

CALL_END = "call_end"

TxT = TypeVar("TxT", bound=HasRecordings)
ChangeT = TypeVar("ChangeT")
Then = Callable[[TxT, ChangeT], Awaitable[None]] | None
"""A hook run with the open transaction and the change just made in it."""


class UnknownRetentionClass(ValueError):
    pass


@dataclass(frozen=True)
class RetentionPolicy:
    classes: Mapping[str, RetentionClass]
    default: str

    @classmethod
    def from_pack(cls, pack: RulePack) -> RetentionPolicy:
        return cls(pack.retention, pack.retention_class)

    def terms_for(self, class_name: str | None, call_end: datetime) -> RetentionTerms:
        name = class_name or self.default
        try:
            rc = self.classes[name]
        except KeyError:
            raise UnknownRetentionClass(
                f"retention class {name!r} is not in the rule pack"
            ) from None
        anchor_at = call_end if rc.anchor == CALL_END else None
        until = None if anchor_at is None else anchor_at + timedelta(days=rc.days)
        return RetentionTerms(rc.name, rc.legal_basis, rc.anchor, anchor_at, rc.days, until)


def is_expired(recording: Recording, now: datetime) -> bool:
    until = recording.terms.retain_until
    return not recording.deleted and not recording.legal_hold and until is not None and until < now


@dataclass(frozen=True)
class Deletion:
    recording_id: int
    name: str
    tenant: str
    retain_until: datetime
    deleted_hash: str | None
    """SHA-256 of the encrypted file removed; None in a dry run or if it was already gone."""
    file_missing: bool


@dataclass(frozen=True)
class SweepFailure:
    recording_id: int
    error: str


@dataclass(frozen=True)
class SweepReport:
    now: datetime
    dry_run: bool
    deletions: tuple[Deletion, ...]
    failures: tuple[SweepFailure, ...]


async def _delete_one(
    store: RecordingStore[TxT],
    vault: Vault,
    recording_id: int,
    now: datetime,
    by: str,
    dry_run: bool,
    then: Then[TxT, Deletion],
) -> Deletion | None:
    # The file is removed inside the transaction that tombstones the row: a crash before the
    # commit leaves a live row without a file, which the next sweep tombstones (file_missing).
    async with store.transaction(readonly=dry_run) as tx:
        rec = await tx.recordings.get(recording_id, lock=not dry_run)
        if rec is None or not is_expired(rec, now):
            return None
        until = rec.terms.retain_until
        assert until is not None
        path = vault.path(rec.region, rec.vault_path)
        if dry_run:
            return Deletion(rec.id, rec.name, rec.tenant, until, None, not path.exists())
        digest = vault.remove(rec.region, rec.vault_path)
        reason = f"retention {rec.terms.retention_class} ended {until.isoformat()}"
        await tx.recordings.tombstone(rec.id, by, now, digest, reason)
        deletion = Deletion(rec.id, rec.name, rec.tenant, until, digest, digest is None)
        if then is not None:
            await then(tx, deletion)
        return deletion


async def sweep(
    store: RecordingStore[TxT],
    vault: Vault,
    now: datetime,
    *,
    by: str = "retention-sweep",
    dry_run: bool = False,
    then: Then[TxT, Deletion] = None,
) -> SweepReport:
    """Delete every recording past ``retain_until`` and not on hold, and nothing else. Each is
    re-checked under a row lock, so a hold placed during the sweep is honoured. ``then`` runs for
    each deletion (not in a dry run) in the transaction that tombstones it."""
    async with store.transaction(readonly=True) as tx:
        candidates = await tx.recordings.expired_ids(now)
    deletions: list[Deletion] = []
    failures: list[SweepFailure] = []
    for recording_id in candidates:
        try:
            deletion = await _delete_one(store, vault, recording_id, now, by, dry_run, then)
        except OSError as exc:
            failures.append(SweepFailure(recording_id, f"{type(exc).__name__}: {exc}"))
            continue
        if deletion is not None:
            deletions.append(deletion)
    return SweepReport(now, dry_run, tuple(deletions), tuple(failures))


@dataclass(frozen=True)
class HoldChange:
    recording_id: int
    name: str
    held: bool
    reason: str
    by: str
    at: datetime


async def _change_hold(
    store: RecordingStore[TxT],
    recording_id: int,
    held: bool,
    reason: str,
    by: str,
    at: datetime,
    then: Then[TxT, HoldChange],
) -> HoldChange:
    if not reason.strip():
        raise ValueError("a legal hold change needs a reason")
    async with store.transaction() as tx:
        rec = await tx.recordings.get(recording_id, lock=True)
        if rec is None:
            raise RecordingNotFound(f"no recording {recording_id}")
        if rec.deleted:
            raise RecordingStateError(f"recording {recording_id} was deleted at {rec.deleted_at}")
        if rec.legal_hold == held:
            state = f"on hold since {rec.hold_at} by {rec.hold_by}" if held else "not on hold"
            raise RecordingStateError(f"recording {recording_id} is already {state}")
        await tx.recordings.set_hold(recording_id, held, reason, by, at)
        change = HoldChange(recording_id, rec.name, held, reason, by, at)
        if then is not None:
            await then(tx, change)
    return change


async def hold(
    store: RecordingStore[TxT],
    recording_id: int,
    reason: str,
    by: str,
    at: datetime,
    then: Then[TxT, HoldChange] = None,
) -> HoldChange:
    """Put a recording on legal hold: no sweep deletes it until it is released."""
    return await _change_hold(store, recording_id, True, reason, by, at, then)


async def release(
    store: RecordingStore[TxT],
    recording_id: int,
    reason: str,
    by: str,
    at: datetime,
    then: Then[TxT, HoldChange] = None,
) -> HoldChange:
    """Lift a legal hold; if its retention has ended meanwhile, the next sweep deletes it."""
    return await _change_hold(store, recording_id, False, reason, by, at, then)


@dataclass(frozen=True)
class AnchorChange:
    recording_id: int
    name: str
    anchor_event: str
    before: RetentionTerms
    anchor_at: datetime
    retain_until: datetime
    by: str
    at: datetime


async def set_anchor(
    store: RecordingStore[TxT],
    recording_id: int,
    anchor_at: datetime,
    *,
    by: str,
    at: datetime,
    reason: str = "",
    then: Then[TxT, AnchorChange] = None,
) -> AnchorChange:
    """Record when the anchor event happened; ``retain_until`` becomes ``anchor_at`` plus the
    class's minimum period (the period copied at ingest)."""
    async with store.transaction() as tx:
        rec = await tx.recordings.get(recording_id, lock=True)
        if rec is None:
            raise RecordingNotFound(f"no recording {recording_id}")
        if rec.deleted:
            raise RecordingStateError(f"recording {recording_id} was deleted at {rec.deleted_at}")
        until = anchor_at + timedelta(days=rec.terms.min_days)
        note = reason or f"{rec.terms.anchor_event} at {anchor_at.isoformat()}"
        await tx.recordings.set_anchor(recording_id, anchor_at, until, by, at, note)
        change = AnchorChange(
            recording_id, rec.name, rec.terms.anchor_event, rec.terms, anchor_at, until, by, at
        )
        if then is not None:
            await then(tx, change)
    return change

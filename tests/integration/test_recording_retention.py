"""The retention sweep with a frozen ``now``, legal holds and anchor changes, on real storage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialguard.ops.recording_testing import Rig, make_rig, write_wav
from dialguard.policy.model import Decision
from dialguard.recording import retention
from dialguard.recording.integrity import export, verify
from dialguard.storage import Store
from dialguard.storage.recording_records import EventAction, Recording, RecordingStateError

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
async def rig(store: Store, tmp_path: Path) -> AsyncIterator[Rig]:
    yield make_rig(store, tmp_path, NOW)


async def recorded(
    rig: Rig, store: Store, make_decision: Callable[..., Decision], uid: str, **kw: object
) -> Recording:
    decision = make_decision(record=True, call_id=uid, **kw)
    async with store.transaction() as tx:
        await tx.decisions.add_many([decision])
    write_wav(rig.spool / f"dg-{uid}.wav", 0.2)
    return (await rig.ingestor.ingest(rig.spool / f"dg-{uid}.wav")).recording


async def fetch(rig: Rig, recording_id: int) -> Recording:
    async with rig.store.transaction(readonly=True) as tx:
        rec = await tx.recordings.get(recording_id)
    assert rec is not None
    return rec


async def test_sweep_deletes_exactly_the_expired_and_unheld(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    short = await recorded(rig, store, make_decision, "1.1")
    held = await recorded(rig, store, make_decision, "1.2")
    finance = await recorded(rig, store, make_decision, "1.3", retention_class="finance")
    await retention.hold(rig.store, held.id, "litigation 2024-17", "legal@acme", NOW)
    until = short.terms.retain_until
    assert until is not None

    at_the_limit = await retention.sweep(rig.store, rig.vault, until)
    assert at_the_limit.deletions == ()  # "kept at least 30 days": not a moment less

    now = until + timedelta(seconds=1)
    dry = await retention.sweep(rig.store, rig.vault, now, dry_run=True)
    assert [d.recording_id for d in dry.deletions] == [short.id]
    assert (await fetch(rig, short.id)).deleted_at is None
    assert rig.vault.path(short.region, short.vault_path).exists()

    report = await retention.sweep(rig.store, rig.vault, now, by="sweeper")
    assert [d.recording_id for d in report.deletions] == [short.id]
    assert report.deletions[0].deleted_hash is not None and not report.failures
    assert not rig.vault.path(short.region, short.vault_path).exists()
    tomb = await fetch(rig, short.id)
    assert (tomb.deleted_at, tomb.deleted_by) == (now, "sweeper")
    assert tomb.deleted_hash == report.deletions[0].deleted_hash and tomb.sha256 == short.sha256
    for kept in (held, finance):
        assert verify(rig.vault, await fetch(rig, kept.id)).ok

    years_later = now + timedelta(days=1826)
    report = await retention.sweep(rig.store, rig.vault, years_later)
    assert [d.recording_id for d in report.deletions] == [finance.id]
    assert verify(rig.vault, await fetch(rig, held.id)).ok  # the hold outlives its retention

    await retention.release(rig.store, held.id, "case closed", "legal@acme", years_later)
    report = await retention.sweep(rig.store, rig.vault, years_later)
    assert [d.recording_id for d in report.deletions] == [held.id]
    async with rig.store.transaction(readonly=True) as tx:
        assert len(await tx.recordings.list(include_deleted=True)) == 3  # tombstones stay
        assert await tx.recordings.list() == ()
        actions = [e.action for e in await tx.recordings.events(held.id)]
    assert actions == [EventAction.HOLD, EventAction.RELEASE, EventAction.DELETE]


async def test_a_file_already_gone_is_tombstoned(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    rec = await recorded(rig, store, make_decision, "1.1")
    rig.vault.path(rec.region, rec.vault_path).unlink()  # crash after unlink, before commit
    assert rec.terms.retain_until is not None
    report = await retention.sweep(rig.store, rig.vault, rec.terms.retain_until + timedelta(1))
    assert report.deletions[0].file_missing and report.deletions[0].deleted_hash is None
    assert (await fetch(rig, rec.id)).deleted


async def test_hold_rules(rig: Rig, store: Store, make_decision: Callable[..., Decision]) -> None:
    rec = await recorded(rig, store, make_decision, "1.1")
    with pytest.raises(ValueError, match="reason"):
        await retention.hold(rig.store, rec.id, " ", "me", NOW)
    change = await retention.hold(rig.store, rec.id, "audit", "me", NOW)
    assert change.held and change.name == "dg-1.1"
    with pytest.raises(RecordingStateError, match="already on hold"):
        await retention.hold(rig.store, rec.id, "again", "me", NOW)
    await retention.release(rig.store, rec.id, "done", "me", NOW)
    with pytest.raises(RecordingStateError, match="not on hold"):
        await retention.release(rig.store, rec.id, "done", "me", NOW)


async def test_anchor_change_recomputes_retain_until(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    rec = await recorded(rig, store, make_decision, "1.1", retention_class="finance")
    contract_end = rec.ended_at + timedelta(days=400)
    change = await retention.set_anchor(rig.store, rec.id, contract_end, by="ops", at=NOW)
    assert change.retain_until == contract_end + timedelta(days=1826)
    assert change.before.retain_until == rec.terms.retain_until
    updated = await fetch(rig, rec.id)
    assert updated.terms.anchor_at == contract_end
    assert updated.terms.retain_until == change.retain_until
    old_limit = rec.terms.retain_until
    assert old_limit is not None
    sweep = await retention.sweep(rig.store, rig.vault, old_limit + timedelta(days=1))
    assert sweep.deletions == ()
    gone = await retention.sweep(rig.store, rig.vault, change.retain_until + timedelta(days=1))
    assert [d.recording_id for d in gone.deletions] == [rec.id]
    with pytest.raises(RecordingStateError, match="deleted"):
        await retention.set_anchor(rig.store, rec.id, NOW, by="ops", at=NOW)
    with pytest.raises(RecordingStateError, match="deleted"):
        export(rig.vault, await fetch(rig, rec.id), rig.spool / "x.wav")

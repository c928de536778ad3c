"""The decision row records the recording notice: ``required`` when the call is decided, then
``played`` or ``missing`` (and the sound) from the PBX's report, in the transaction that ingests
the recording and appends its audit entry. The digest that vouches for the row does not cover
the notice, so the chain still verifies after the update, on a database migrated from before too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from dialguard.audit import service as audit
from dialguard.config import Settings
from dialguard.ops.recording_testing import Rig, make_rig, write_wav
from dialguard.policy.book import load_pack
from dialguard.policy.model import Decision
from dialguard.recording.ingest import Ingestor, Outcome
from dialguard.recording.retention import RetentionPolicy
from dialguard.storage import Store, Transaction, init_database
from dialguard.storage.audit import AuditRepository
from dialguard.storage.connection import create_engine
from dialguard.storage.decision_log import DecisionLog, audit_entry
from dialguard.storage.decisions import decision_row
from dialguard.storage.migrate import alembic_config
from dialguard.storage.recording_records import Notice, NoticeStatus, Recording
from dialguard.storage.schema import decisions
from dialguard.views import decision_view

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)
UID = "1717383600.42"


@pytest.fixture
async def rig(store: Store, tmp_path: Path) -> AsyncIterator[Rig]:
    yield make_rig(store, tmp_path, NOW)


async def _decide(store: Store, decision: Decision) -> None:
    """Through the decision log, as the gate stores it (SQLite: the group-commit writer)."""
    log = DecisionLog(store)
    log.start()
    try:
        await log.append(decision)
    finally:
        await log.stop()


async def _ingest(rig: Rig, report: str | None) -> None:
    wav = rig.spool / f"dg-{UID}.wav"
    write_wav(wav, 1.0)
    if report is not None:
        (rig.spool / f"dg-{UID}.notice").write_text(report)
    assert (await rig.ingestor.ingest(wav)).outcome is Outcome.INGESTED


async def _stored(store: Store, decision_id: str) -> Decision:
    async with store.transaction(readonly=True) as tx:
        found = await tx.decisions.get(decision_id)
    assert found is not None
    return found


async def _verified(settings: Settings) -> None:
    report = await audit.verify(settings, full=True)
    assert report.ok, report.problems


async def test_a_required_notice_is_on_the_row_from_the_decision(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    required = make_decision(record=True, notice=True, call_id=UID)
    plain = make_decision(record=True)
    await _decide(store, required)
    await _decide(store, plain)

    stored = await _stored(store, required.decision_id)
    assert (stored.notice, stored.notice_played, stored.notice_prompt) == (True, None, None)
    assert decision_view(stored)["notice"] == "required"
    assert decision_view(await _stored(store, plain.decision_id))["notice"] is None


@pytest.mark.parametrize(
    ("report", "status", "prompt", "vault"),
    [
        ("played custom/notice", "played", "custom/notice", NoticeStatus.PLAYED),
        ("missing custom/notice", "missing", "custom/notice", NoticeStatus.MISSING),
        (None, "missing", "", NoticeStatus.MISSING),
    ],
    ids=["played", "missing", "not-reported"],
)
async def test_the_ingest_settles_the_decisions_notice_with_the_vault_entry(
    db_settings: Settings,
    store: Store,
    rig: Rig,
    make_decision: Callable[..., Decision],
    report: str | None,
    status: str,
    prompt: str,
    vault: NoticeStatus,
) -> None:
    decision = make_decision(record=True, notice=True, call_id=UID)
    await _decide(store, decision)
    await _ingest(rig, report)

    stored = await _stored(store, decision.decision_id)
    assert decision_view(stored)["notice"] == status
    assert decision_view(stored)["notice_prompt"] == prompt
    async with store.transaction(readonly=True) as tx:
        recording = await tx.recordings.get_by_name(f"dg-{UID}")
        [entry] = [e for e in await tx.audit.tail(10) if e.action == "recording.ingest"]
    assert recording is not None and recording.notice == Notice(vault, prompt)
    assert entry.detail["after"]["decision_id"] == decision.decision_id
    assert entry.detail["after"]["notice"] == status
    await _verified(db_settings)


async def test_no_notice_required_leaves_the_decision_without_one(
    store: Store, rig: Rig, make_decision: Callable[..., Decision]
) -> None:
    decision = make_decision(record=True, call_id=UID)
    await _decide(store, decision)
    await _ingest(rig, None)
    assert decision_view(await _stored(store, decision.decision_id))["notice"] is None


async def test_an_ingest_rolled_back_leaves_the_decision_required(
    store: Store, rig: Rig, make_decision: Callable[..., Decision]
) -> None:
    """The update commits with the vault entry and its audit entry, or not at all: here the
    audit hook fails after the update, inside the ingest's transaction."""
    decision = make_decision(record=True, notice=True, call_id=UID)
    await _decide(store, decision)

    async def failing_audit(tx: Transaction, rec: Recording) -> None:
        raise RuntimeError("audit failed")

    ingestor = Ingestor(
        store,
        rig.vault,
        RetentionPolicy.from_pack(load_pack("cn")),
        rig.settings.region_for,
        lambda: NOW,
        then=failing_audit,
    )
    wav = rig.spool / f"dg-{UID}.wav"
    write_wav(wav, 1.0)
    (rig.spool / f"dg-{UID}.notice").write_text("played beep")
    with pytest.raises(RuntimeError, match="audit failed"):
        await ingestor.ingest(wav)
    assert decision_view(await _stored(store, decision.decision_id))["notice"] == "required"

    await _ingest(rig, "played beep")
    assert decision_view(await _stored(store, decision.decision_id))["notice"] == "played"


def _to_i18scale(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "i18scale")


def _before_notice(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("notice", "notice_prompt")}


async def test_rows_vouched_for_before_the_migration_verify_after_it(
    db_settings: Settings, make_decision: Callable[..., Decision], tmp_path: Path
) -> None:
    """A decision stored and audited at ``i18scale`` (no notice columns), then the upgrade, then
    a notice settled on a new decision: the whole chain verifies and the old row has none."""
    old = make_decision(record=True, call_id="1717383000.1")
    row = _before_notice(decision_row(old))
    engine = create_engine(db_settings.database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to_i18scale)
        async with engine.begin() as conn:
            await conn.execute(decisions.insert().values(**row))  # the old columns only
            typed = sa.select(*(decisions.c[name] for name in row))
            [stored] = (await conn.execute(typed)).mappings().all()
            entry = audit_entry(_before_notice(dict(stored)))
            await AuditRepository(conn).append_many([entry])
    finally:
        await engine.dispose()
    await _verified(db_settings)

    await init_database(db_settings)
    store = await Store.open(db_settings)
    try:
        assert (await _stored(store, old.decision_id)).notice_status is None
        new = replace(make_decision(record=True, notice=True, call_id=UID), decided_at=NOW)
        await _decide(store, new)
        await _ingest(make_rig(store, tmp_path, NOW), "played beep")
        assert (await _stored(store, new.decision_id)).notice_status == "played"
    finally:
        await store.close()
    await _verified(db_settings)

"""Erasure leaves no raw number anywhere but in restricted records, keeps an opt-out blocking,
and the sweep erases restricted records when their retention period ends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pg_databases import MigratedCopies
from sqlalchemy import select

from dialguard.config import Settings
from dialguard.ops import dsr
from dialguard.ops.audited import Actor
from dialguard.ops.recording_testing import make_rig, write_wav
from dialguard.policy.book import load_pack
from dialguard.policy.model import ConsentRecord, ContactFlags, Decision, DncEntry, DncScope
from dialguard.rights.export import write_export
from dialguard.rights.pseudonyms import masked, subject
from dialguard.settings.dsr import DsrSettings
from dialguard.storage import DecisionLog, StorageError, Store
from dialguard.storage.connection import create_engine
from dialguard.storage.dsr_requests import DsrStatus
from dialguard.storage.recording_records import CallSource, NewRecording, RetentionTerms
from dialguard.storage.schema import metadata
from dialguard.storage.subject_key import SubjectKey

NUMBER = "+8613800138000"
DIGITS = "13800138000"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
PACK = load_pack("cn")
DPO = Actor("dpo", NOW)


@pytest.fixture
async def rights(
    db_settings: Settings, tmp_path: Path, migrated_copies: MigratedCopies
) -> AsyncIterator[tuple[Store, Settings]]:
    settings = replace(db_settings, dsr=DsrSettings(hash_key_file=str(tmp_path / "subject.key")))
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    await migrated_copies.migrate(settings)
    store = await Store.open(settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.tenants.ensure("bank", "finance")
        yield store, settings
    finally:
        await store.close()


def _recording(name: str, decision: Decision, until: datetime) -> NewRecording:
    assert decision.caller is not None and decision.callee is not None
    source = CallSource(
        decision.decision_id,
        None,
        decision.caller,
        decision.callee,
        decision.attempt.tenant,
        "default",
        decision.decided_at,
    )
    terms = RetentionTerms("default", "MIIT: 30 days", "call_end", decision.decided_at, 30, until)
    return NewRecording(
        name,
        source,
        decision.decided_at,
        decision.decided_at,
        1000,
        10,
        "0" * 64,
        "k1",
        "cn",
        f"{name}.dgrec",
        terms,
        decision.decided_at,
    )


def decided(
    make_decision: Callable[..., Decision],
    decided_at: datetime,
    retention_class: str = "default",
    **kw: Any,
) -> Decision:
    """A decision with the retention the engine fixes for ``retention_class`` of the pack in
    force (the cn-finance overlay picks ``finance``: 5 years)."""
    days = PACK.retention[retention_class].days
    return make_decision(
        decided_at=decided_at,
        retention_class=retention_class,
        retain_until=decided_at + timedelta(days=days),
        **kw,
    )


async def seed(store: Store, make_decision: Callable[..., Decision]) -> dict[str, Decision]:
    """Everything a person leaves behind: an opt-out (and an old one), consent, contact flags,
    a frequency reset, decisions as callee and caller, recordings; audited as the CLI does."""
    decisions = {
        "old": decided(make_decision, NOW - timedelta(days=40)),
        "recent": decided(make_decision, NOW - timedelta(days=1)),
        "finance": decided(make_decision, NOW - timedelta(days=40), "finance", tenant="bank"),
        "as_caller": decided(
            make_decision, NOW - timedelta(days=2), caller=NUMBER, callee="+862161234567"
        ),
    }
    log = DecisionLog(store)
    log.start()
    try:
        for decision in decisions.values():
            await log.append(decision)
    finally:
        await log.stop()
    entry = DncEntry(
        NUMBER,
        DncScope.GLOBAL,
        None,
        None,
        "callee",
        "stop calling",
        NOW - timedelta(days=3),
        None,
        "alice",
    )
    old = replace(entry, scope=DncScope.TENANT, tenant="acme", added_at=NOW - timedelta(days=9))
    async with store.transaction() as tx:
        await tx.dnc.add(old)
        await tx.dnc.remove(
            NUMBER,
            scope=DncScope.TENANT,
            tenant="acme",
            reason="mistake",
            by="bob",
            at=NOW - timedelta(days=8),
        )
        await tx.dnc.add(entry)
        await tx.audit.append("alice", "dnc.add", subject(tx, NUMBER), masked({"after": entry}))
        consent: ConsentRecord = await tx.consents.add(
            NUMBER,
            "acme",
            "callback",
            evidence_ref="ticket-1",
            channel="web",
            given_at=NOW - timedelta(days=5),
        )
        await tx.audit.append(
            "alice", "consent.add", subject(tx, NUMBER), masked({"after": consent})
        )
        await tx.contacts.upsert(ContactFlags(NUMBER, minor=True), at=NOW)
        await tx.decisions.reset_frequency(
            NUMBER, "acme", NOW - timedelta(days=4), "bob", "complaint"
        )
        live = await tx.recordings.add(
            _recording("dg-live", decisions["recent"], NOW + timedelta(days=29))
        )
        gone = await tx.recordings.add(
            _recording("dg-gone", decisions["old"], NOW - timedelta(days=10))
        )
        assert live is not None and gone is not None
        await tx.recordings.tombstone(
            gone.id, "retention-sweep", NOW - timedelta(days=9), None, "ended"
        )
    return decisions


async def raw_number_rows(settings: Settings) -> list[str]:
    """Every row of every table, restricted ones excepted, that holds the number's digits."""
    engine = create_engine(settings.database)
    found: list[str] = []
    try:
        async with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in await conn.execute(select(table)):
                    values: dict[str, Any] = dict(row._mapping)
                    if values.get("restricted"):
                        continue
                    if any(DIGITS in str(value) for value in values.values()):
                        found.append(f"{table.name}: {values}")
    finally:
        await engine.dispose()
    return found


async def test_erasure_leaves_the_number_only_in_restricted_records(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision]
) -> None:
    store, settings = rights
    decisions = await seed(store, make_decision)
    assert await raw_number_rows(settings)

    report = await dsr.erase(store, DPO, PACK, NUMBER, deadline_days=15)

    assert await raw_number_rows(settings) == []
    assert report.status is DsrStatus.RESTRICTED
    assert report.erased["consents"] == 1 and report.erased["contact"] == 1
    assert report.erased["dnc"] == 2 and report.erased["dnc_kept_by_keyed_hash"] == 1
    assert report.erased["decisions"] == 1  # the acme one past its 30 days
    held = {(h.table, h.until) for h in report.held}
    assert ("decisions", decisions["recent"].decided_at + timedelta(days=30)) in held
    assert ("decisions", decisions["finance"].decided_at + timedelta(days=1826)) in held
    assert ("recordings", NOW + timedelta(days=29)) in held
    async with store.transaction(readonly=True) as tx:
        assert await tx.decisions.list(callee=NUMBER) == ()
        assert await tx.decisions.get(decisions["recent"].decision_id) is None
        assert await tx.decisions.recent_allowed(NUMBER, "acme", NOW - timedelta(days=7)) == ()
        assert [r.name for r in await tx.recordings.list(include_deleted=True)] == ["dg-gone"]


async def test_an_erased_person_who_opted_out_stays_blocked(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision]
) -> None:
    store, _ = rights
    await seed(store, make_decision)
    await dsr.erase(store, DPO, PACK, NUMBER, deadline_days=15)
    async with store.transaction(readonly=True) as tx:
        kept = await tx.dnc.matching(NUMBER, "acme", None, NOW + timedelta(days=400))
        assert [(e.number, e.scope) for e in kept] == [(NUMBER, DncScope.GLOBAL)]
        assert await tx.dnc.matching("+8613900139000", "acme", None, NOW) == ()
    async with store.transaction() as tx:
        removed = await tx.dnc.remove(NUMBER, scope=DncScope.GLOBAL, reason="asked again", by="dpo")
        assert removed == 1
        assert await tx.dnc.matching(NUMBER, "acme", None, NOW) == ()


async def test_the_sweep_erases_restricted_records_when_their_period_ends(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision]
) -> None:
    store, settings = rights
    await seed(store, make_decision)
    report = await dsr.erase(store, DPO, PACK, NUMBER, deadline_days=15)

    first = await dsr.sweep(store, Actor("dsr-sweep", NOW + timedelta(days=31)))
    assert first.decisions_erased == 2 and first.requests_completed == ()
    later = await dsr.sweep(store, Actor("dsr-sweep", NOW + timedelta(days=6 * 365)))
    assert later.decisions_erased == 1 and later.requests_completed == ()
    async with store.transaction() as tx:
        (live,) = [h.id for h in report.held if h.table == "recordings"]
        await tx.recordings.tombstone(
            live, "retention-sweep", NOW + timedelta(days=30), None, "end"
        )
    last = await dsr.sweep(store, Actor("dsr-sweep", NOW + timedelta(days=6 * 365)))
    assert last.tombstones_masked == 1 and last.requests_completed == (report.request_id,)

    engine = create_engine(settings.database)
    try:
        async with engine.connect() as conn:
            for table in metadata.sorted_tables:
                rows = (await conn.execute(select(table))).all()
                assert all(DIGITS not in str(tuple(row)) for row in rows), table.name
    finally:
        await engine.dispose()


async def test_export_holds_everything_including_restricted_records(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision]
) -> None:
    store, _ = rights
    await seed(store, make_decision)
    before = await dsr.export(store, DPO, NUMBER, deadline_days=15)
    counts = {name: len(rows) for name, rows in before.data.items() if isinstance(rows, list)}
    assert counts["dnc"] == 2 and counts["consents"] == 1 and counts["contact"] == 1
    assert counts["decisions"] == 4 and counts["recordings"] == 2
    assert counts["audit"] == 3  # dnc.add, consent.add, dsr.receive

    await dsr.erase(store, DPO, PACK, NUMBER, deadline_days=15)
    after = await dsr.export(store, DPO, NUMBER, deadline_days=15)
    assert all(row["restricted"] for row in after.data["decisions"])
    assert len(after.data["dnc_kept_after_erasure"]) == 1
    assert after.data["consents"] == [] and after.data["dnc"] == []
    assert [r.kind for r in await _requests(store)] == ["export", "erase", "export"]


async def _requests(store: Store) -> list[Any]:
    async with store.transaction(readonly=True) as tx:
        return list(await tx.dsr.list())


async def test_opening_without_the_subject_key_fails_once_opt_outs_depend_on_it(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision]
) -> None:
    store, settings = rights
    await seed(store, make_decision)
    await dsr.erase(store, DPO, PACK, NUMBER, deadline_days=15)
    lose(Path(settings.dsr.hash_key_file))
    with pytest.raises(StorageError, match="restore it from backup"):
        await Store.open(settings)


def lose(path: Path) -> None:
    path.unlink()


async def test_export_with_audio_decrypts_the_recordings(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision], tmp_path: Path
) -> None:
    store, _ = rights
    rig = make_rig(store, tmp_path / "rig", NOW)
    decision = make_decision(record=True, call_id="c-1", decided_at=NOW - timedelta(minutes=5))
    async with store.transaction() as tx:
        await tx.decisions.add_many([decision])
    wav = write_wav(rig.spool / "dg-c-1.wav", 1)
    await rig.ingestor.ingest(rig.spool / "dg-c-1.wav")

    export = await dsr.export(store, DPO, NUMBER, deadline_days=15)
    out = tmp_path / "out" / "subject.json"
    written = write_export(export, out, rig.vault)
    (name,) = [r["name"] for r in export.data["recordings"]]
    assert written == [out, tmp_path / "out" / "subject-audio" / f"{name}.wav"]
    assert written[1].read_bytes() == wav
    assert json.loads(out.read_text())["recordings"][0]["name"] == name

"""Erasure that erases: the number leaves the SQLite file and its WAL (also after a clean stop),
each decision is kept as long as the rules in force when it was made say, and the consent a kept
decision relied on is restricted, not deleted, until that decision may go. The audit log
verifies, rows included, after every step."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pg_databases import MigratedCopies, settings_for

from dialguard.audit import service as audit
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.gate.service import GateService
from dialguard.ops import dsr
from dialguard.ops.audited import Actor
from dialguard.ops.tenants import add_tenant
from dialguard.policy.book import PolicyBook, load_pack
from dialguard.policy.model import CallAttempt, ContactFlags, Decision, DncEntry, DncScope
from dialguard.settings.dsr import DsrSettings
from dialguard.storage import DecisionLog, Store
from dialguard.storage.dsr_requests import DsrStatus
from dialguard.storage.facts import SqliteFactReader, fact_reader
from dialguard.storage.subject_key import SubjectKey

NUMBER = "+8613800138000"
DIGITS = b"13800138000"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
PACK = load_pack("cn")


def with_subject_key(settings: Settings, tmp_path: Path) -> Settings:
    settings = replace(settings, dsr=DsrSettings(hash_key_file=str(tmp_path / "subject.key")))
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    return settings


@pytest.fixture
async def rights(
    db_settings: Settings, tmp_path: Path, migrated_copies: MigratedCopies
) -> AsyncIterator[tuple[Store, Settings]]:
    settings = with_subject_key(db_settings, tmp_path)
    await migrated_copies.migrate(settings)
    store = await Store.open(settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
        yield store, settings
    finally:
        await store.close()


def kept(make_decision: Callable[..., Decision], decided_at: datetime, **kw: Any) -> Decision:
    """A decision with the default class's 30 days fixed, as the engine stores it."""
    until = decided_at + timedelta(days=PACK.retention["default"].days)
    return make_decision(decided_at=decided_at, retention_class="default", retain_until=until, **kw)


async def decide(store: Store, *decisions: Decision) -> None:
    log = DecisionLog(store)
    log.start()
    try:
        for decision in decisions:
            await log.append(decision)
    finally:
        await log.stop()


async def verified(settings: Settings) -> None:
    report = await audit.verify(settings, full=True)
    assert report.ok, report.problems


def raw(path: Path) -> bytes:
    """The database file and its write-ahead log, as bytes on disk. Read by another process:
    closing any descriptor of the file in this one would drop the POSIX locks SQLite holds on
    it here, and another process could then take the WAL away from our open connections."""
    wal = path.with_name(path.name + "-wal")
    files = [str(path), *([str(wal)] if wal.exists() else [])]
    return subprocess.run(["cat", *files], capture_output=True, check=True).stdout


async def test_erased_values_leave_the_database_file_and_its_wal(
    tmp_path: Path, make_decision: Callable[..., Decision], migrated_copies: MigratedCopies
) -> None:
    path = tmp_path / "db" / "dialguard.db"
    settings = settings_for(f"sqlite+aiosqlite:///{path}")
    settings = with_subject_key(settings, tmp_path)
    await migrated_copies.migrate(settings)
    store = await Store.open(settings)
    file = store.sqlite_file()
    assert file is not None
    reader = SqliteFactReader(file)  # a gate's call-path connection, open throughout
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
        # Past their retention: erased outright. One more kept (restricted) for 30 days. What
        # only the erased rows hold is marked ERASE-ME, to be looked for in the raw files.
        await decide(
            store,
            kept(make_decision, NOW - timedelta(days=40), call_id="ERASE-ME-call-1"),
            kept(
                make_decision,
                NOW - timedelta(days=35),
                caller=NUMBER,
                callee="+862161234567",
                call_id="ERASE-ME-call-2",
            ),
            kept(make_decision, NOW - timedelta(days=1), call_id="kept-call"),
        )
        async with store.transaction() as tx:
            await tx.consents.add(
                NUMBER,
                "acme",
                "callback",
                evidence_ref="ERASE-ME-ticket",
                channel="web",
                given_at=NOW,
            )
            entry = DncEntry(
                NUMBER, DncScope.GLOBAL, None, None, "callee", "ERASE-ME-reason", NOW, None, "a"
            )
            await tx.dnc.add(entry)
            await tx.contacts.upsert(ContactFlags(NUMBER, minor=True), at=NOW)
            await tx.audit.append("a", "seed", "n:x", {"evidence": await tx.evidence.changed()})
        assert DIGITS in raw(path) and raw(path).count(b"ERASE-ME") >= 4

        report = await dsr.erase(store, Actor("dpo", NOW), PACK, NUMBER, deadline_days=15)
        assert report.status is DsrStatus.RESTRICTED and report.wal_truncated is True
        assert report.erased["decisions"] == 2
        assert b"ERASE-ME" not in raw(path)
        assert DIGITS in raw(path)  # the restricted decision, until its 30 days are over
        await verified(settings)

        done = await dsr.sweep(store, Actor("dsr-sweep", NOW + timedelta(days=31)))
        assert done.decisions_erased == 1 and done.requests_completed == (report.request_id,)
        assert DIGITS not in raw(path)
        await verified(settings)
    finally:
        reader.close()
        await store.close()
    # A clean stop: the last connection checkpoints the WAL into the file and removes it.
    assert not path.with_name(path.name + "-wal").exists()
    assert DIGITS not in path.read_bytes()


async def test_a_decision_keeps_the_retention_of_the_industry_it_was_made_under(
    rights: tuple[Store, Settings],
) -> None:
    store, settings = rights
    decided_at = datetime(2026, 4, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    await add_tenant(store, Actor("admin", decided_at - timedelta(days=1)), "bank", "finance")
    log = DecisionLog(store)
    log.start()
    facts = fact_reader(store)
    gate = GateService(facts, PolicyBook.load("cn"), Clock(decided_at), "CN", log)
    try:
        decision = await gate.decide(CallAttempt("01058001234", "13800138000", "bank", "callback"))
    finally:
        facts.close()
        await log.stop()
    assert decision.retention_class == "finance"
    assert decision.retain_until == decided_at + timedelta(days=1826)
    # An audited finance → general change.
    await add_tenant(store, Actor("admin", decided_at + timedelta(days=1)), "bank", "general")

    later = decided_at + timedelta(days=40)
    report = await dsr.erase(store, Actor("dpo", later), PACK, NUMBER, deadline_days=15)
    assert report.erased["decisions"] == 0
    [held] = [h for h in report.held if h.table == "decisions"]
    assert held.until == decided_at + timedelta(days=1826)
    assert held.basis == PACK.retention["finance"].legal_basis
    await verified(settings)


async def test_the_consent_a_kept_decision_relied_on_is_restricted_until_it_may_go(
    rights: tuple[Store, Settings], make_decision: Callable[..., Decision]
) -> None:
    store, settings = rights
    async with store.transaction() as tx:
        for ref in ("ticket-relied", "ticket-unused"):
            await tx.consents.add(
                NUMBER, "acme", "callback", evidence_ref=ref, channel="web", given_at=NOW
            )
        await tx.audit.append("a", "consent.add", "n:x", {"evidence": await tx.evidence.changed()})
    relied = kept(make_decision, NOW - timedelta(days=2), consent_ref="ticket-relied")
    await decide(store, relied)

    report = await dsr.erase(store, Actor("dpo", NOW), PACK, NUMBER, deadline_days=15)
    assert report.erased["consents"] == 1
    [consent] = [h for h in report.held if h.table == "consents"]
    assert consent.until == relied.retain_until
    async with store.transaction(readonly=True) as tx:
        assert await tx.consents.for_callee(NUMBER, "acme") == ()  # not usable by calls
    export = await dsr.export(store, Actor("dpo", NOW), NUMBER, deadline_days=15)
    [row] = export.data["consents"]
    assert (row["evidence_ref"], row["restricted"]) == ("ticket-relied", True)
    await verified(settings)

    assert relied.retain_until is not None
    early = await dsr.sweep(store, Actor("dsr-sweep", relied.retain_until - timedelta(seconds=1)))
    assert (early.decisions_erased, early.consents_erased) == (0, 0)
    done = await dsr.sweep(store, Actor("dsr-sweep", relied.retain_until))
    assert (done.decisions_erased, done.consents_erased) == (1, 1)
    assert done.requests_completed == (report.request_id,)
    after = await dsr.export(store, Actor("dpo", NOW), NUMBER, deadline_days=15)
    assert after.data["consents"] == [] and after.data["decisions"] == []
    await verified(settings)

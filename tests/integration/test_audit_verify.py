"""``audit verify`` catches every way of tampering with the log, on both backends.

The entries are tampered with directly in SQL, as someone with database access would: flipping a
bit, deleting, reordering, truncating, and rewriting the whole chain with fresh hashes. What
verification finds is the subject, not where it runs: it runs in the test process
(``verification_in_process``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from dialguard.audit import service
from dialguard.audit.checkpoint import SigningKey, append_checkpoint, read_checkpoints
from dialguard.audit.verify import VerifyReport
from dialguard.audit.writer import AuditChainBroken, CheckpointWriter
from dialguard.config import Settings
from dialguard.policy.model import Decision, Verdict
from dialguard.settings.audit import AuditSettings
from dialguard.storage import DecisionLog, Store
from dialguard.storage.audit import GENESIS_HASH, canonical_entry, entry_hash
from dialguard.storage.connection import create_engine

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def settings(db_settings: Settings, tmp_path: Path) -> Settings:
    audit = AuditSettings(
        checkpoint_file=str(tmp_path / "cp.jsonl"),
        signing_key_file=str(tmp_path / "signing.key"),
    )
    SigningKey.create(Path(audit.signing_key_file))
    return replace(db_settings, audit=audit)


async def fill(store: Store, make_decision: Callable[..., Decision], n: int = 6) -> None:
    log = DecisionLog(store)
    log.start()
    try:
        for i in range(n // 2):
            await log.append(make_decision(decided_at=T0 + timedelta(minutes=i)))
    finally:
        await log.stop()
    async with store.transaction() as tx:
        for i in range(n - n // 2):
            await tx.audit.append("alice", "tenants.add", f"t{i}", {"after": {"n": i}})


async def sql(settings: Settings, statement: str) -> None:
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as conn:
            for one in statement.split(";"):
                await conn.execute(text(one))
    finally:
        await engine.dispose()


async def check(settings: Settings, **kwargs: Path) -> VerifyReport:
    return await service.verify(settings, **kwargs)


async def test_an_untouched_log_verifies_with_its_checkpoints(
    store: Store, settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    await fill(store, make_decision)
    first = await service.write_checkpoint(store, settings, now=T0)
    await fill(store, make_decision)
    second = await service.write_checkpoint(store, settings, now=T0 + timedelta(hours=1))
    assert (first.tree_size, second.tree_size) == (6, 12)
    report = await check(settings)
    assert report.ok, report.problems
    assert report.checkpoints_checked == 2 and report.entries == 12
    assert report.root_hash == second.root_hash


async def test_without_checkpoints_it_says_truncation_is_invisible(
    store: Store, settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    await fill(store, make_decision)
    await sql(settings, "DELETE FROM audit_log WHERE seq > 4")
    report = await check(settings)
    assert report.ok and report.entries == 4
    assert "cannot be detected" in report.notes[0]


@pytest.mark.parametrize(
    ("tamper", "first_bad", "words"),
    [
        (
            "UPDATE audit_log SET detail = replace(detail, 'after', 'afteR') WHERE seq = 5",
            5,
            "modified",
        ),
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", 2, "modified"),
        ("DELETE FROM audit_log WHERE seq = 3", 3, "missing"),
        (
            # Swap entries 3 and 4 (seq is the order).
            "UPDATE audit_log SET seq = -3 WHERE seq = 3;"
            "UPDATE audit_log SET seq = 3 WHERE seq = 4;"
            "UPDATE audit_log SET seq = 4 WHERE seq = -3",
            3,
            "modified",
        ),
        ("DELETE FROM audit_log WHERE seq > 4", 5, "truncated"),
    ],
    ids=["bit-flip", "field", "delete", "reorder", "truncate"],
)
async def test_tampering_is_caught_naming_the_first_bad_entry(
    store: Store,
    settings: Settings,
    make_decision: Callable[..., Decision],
    tamper: str,
    first_bad: int,
    words: str,
) -> None:
    await fill(store, make_decision)
    await service.write_checkpoint(store, settings, now=T0)
    await sql(settings, tamper)
    report = await check(settings)
    assert not report.ok
    assert report.problems[0].seq == first_bad
    assert f"entry {first_bad}" in report.problems[0].message
    assert words in report.problems[0].message


async def test_a_rehashed_rewrite_is_caught_by_the_checkpoint(
    store: Store, settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    await fill(store, make_decision)
    await service.write_checkpoint(store, settings, now=T0)
    # Rewrite entry 2 and re-hash every entry after it: the chain itself checks out again.
    await sql(settings, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as conn:
            rows = (await conn.execute(text("SELECT * FROM audit_log ORDER BY seq"))).all()
            previous = GENESIS_HASH
            for row in rows:
                at = datetime.fromisoformat(str(row.at)).replace(tzinfo=UTC)
                digest = entry_hash(
                    canonical_entry(
                        seq=row.seq,
                        at=at,
                        actor=row.actor,
                        action=row.action,
                        subject=row.subject,
                        detail_json=row.detail,
                        prev_hash=previous,
                    )
                )
                await conn.execute(
                    text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                    {"p": previous, "h": digest, "s": row.seq},
                )
                previous = digest
    finally:
        await engine.dispose()
    report = await check(settings)
    assert not report.ok
    assert "no longer extends" in report.problems[0].message


async def test_a_forged_checkpoint_is_caught(
    store: Store, settings: Settings, make_decision: Callable[..., Decision], tmp_path: Path
) -> None:
    await fill(store, make_decision)
    genuine = await service.write_checkpoint(store, settings, now=T0)
    forger = SigningKey.create(tmp_path / "forger.key")
    path = Path(settings.audit.checkpoint_file)
    forged = replace(forger.sign(6, bytes(32), T0), key_id=genuine.key_id)
    append_checkpoint(path, forged)
    altered = replace(genuine, root_hash="00" * 32)
    append_checkpoint(path, altered)
    report = await check(settings)
    assert [p.message.endswith("signature does not verify") for p in report.problems] == [
        True,
        True,
    ]
    assert report.checkpoints_checked == 3


async def test_the_writer_refuses_to_sign_a_log_that_no_longer_matches(
    store: Store, settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    await fill(store, make_decision)
    await service.write_checkpoint(store, settings, now=T0)
    await sql(settings, "DELETE FROM audit_log WHERE seq > 4")
    with pytest.raises(AuditChainBroken, match="truncated"):
        await service.write_checkpoint(store, settings, now=T0)
    assert len(read_checkpoints(Path(settings.audit.checkpoint_file))) == 1


async def test_the_writer_reads_only_new_entries_and_skips_unchanged_logs(
    store: Store, settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    key = SigningKey.load(Path(settings.audit.signing_key_file))
    writer = CheckpointWriter(store, key, Path(settings.audit.checkpoint_file))
    await fill(store, make_decision)
    assert (await writer.checkpoint(T0)) is not None
    assert await writer.checkpoint(T0) is None
    await fill(store, make_decision, 2)
    latest = await writer.checkpoint(T0)
    assert latest is not None and latest.tree_size == 8
    assert (await check(settings)).ok


async def test_every_decision_is_audited_in_its_batch(
    store: Store, settings: Settings, make_decision: Callable[..., Decision]
) -> None:
    log = DecisionLog(store)
    log.start()
    decisions = [make_decision(verdict=Verdict.DENY if i % 2 else Verdict.ALLOW) for i in range(40)]
    try:
        await asyncio.gather(*(log.append(d) for d in decisions))
    finally:
        await log.stop()
    async with store.transaction(readonly=True) as tx:
        entries = await tx.audit.tail(100)
    assert log.commits < 40
    assert {e.subject for e in entries} == {d.decision_id for d in decisions}
    by_id = {e.subject: e for e in entries}
    for decision in decisions:
        entry = by_id[decision.decision_id]
        assert entry.actor == "gate"
        assert entry.action == f"decision.{decision.verdict.value}"
        assert entry.detail["callee"] == "+86 138****8000"
        assert entry.detail["policy_version"] == decision.policy_version
        assert [r["code"] for r in entry.detail["reasons"]] == [r.code for r in decision.reasons]
    assert "13800138000" not in str([e.detail for e in entries])
    assert (await check(settings)).ok

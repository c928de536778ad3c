"""The decision log's SQLite writer (:class:`SqliteDecisionWriter`: compiled inserts on plain
``sqlite3``) stores exactly what the repositories store, and its audit entries chain and verify.

Two stores get the same decisions, one through ``tx.decisions.add_many`` and
``tx.audit.append_many``, the other through the writer, with an admin entry between batches on
both; the stored rows must be byte-for-byte the same, read back the same through the
repositories, and ``audit verify`` must accept the writer's chain.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pg_databases import MigratedCopies

from dialguard.audit import service
from dialguard.audit.checkpoint import SigningKey
from dialguard.config import Settings
from dialguard.policy.model import Decision, Direction, Presentation, Reason, Verdict
from dialguard.settings.audit import AuditSettings
from dialguard.settings.database import DatabaseSettings
from dialguard.storage import Store
from dialguard.storage import decisions as decisions_module
from dialguard.storage.decision_log import audit_entry
from dialguard.storage.decision_writer import SqliteDecisionWriter
from dialguard.storage.errors import StorageError
from dialguard.storage.settle import unclaimed

T0 = datetime(2024, 6, 3, 2, 0, 0, 123456, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))


async def _open(path: Path, copies: MigratedCopies) -> Store:
    settings = replace(Settings(), database=DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
    await copies.migrate(settings)
    return await Store.open(settings)


@pytest.fixture
async def stores(
    tmp_path: Path, migrated_copies: MigratedCopies
) -> AsyncIterator[tuple[Store, Store]]:
    reference = await _open(tmp_path / "ref.db", migrated_copies)
    fast = await _open(tmp_path / "fast.db", migrated_copies)
    try:
        yield reference, fast
    finally:
        await reference.close()
        await fast.close()


def batches(make_decision: Callable[..., Decision]) -> list[list[Decision]]:
    """Every kind of value a decision row holds: NULLs, JSON with non-ASCII text and numbers to
    mask, other time zones, floats, booleans, each enum value."""
    return [
        [
            make_decision(decision_id=f"d-{i}", decided_at=T0 + timedelta(seconds=i))
            for i in range(3)
        ],
        [
            make_decision(
                decision_id="deny",
                verdict=Verdict.DENY,
                reasons=(
                    Reason("dnc.global", "13800138000 在全国拒接名单"),
                    Reason("hours.quiet", "quiet hours (21:00–08:00)"),
                ),
                decided_at=datetime(2024, 6, 3, 10, 0, 0, 1, tzinfo=BEIJING),
                campaign="spring",
                call_id="pbx-1.2",
                direction=Direction.INBOUND,
                consent_ref="consent-7",
                record=True,
                retention_class="finance-5y",
                latency_ms=0.731,
            ),
            make_decision(
                decision_id="anonymous",
                caller=None,
                callee=None,
                attempt=replace(
                    make_decision().attempt,
                    caller="anonymous",
                    callee="not a number",
                    presentation=Presentation.RESTRICTED,
                ),
                verdict=Verdict.DENY,
            ),
        ],
    ]


def raw_rows(store: Store, table: str, order: str) -> list[tuple[object, ...]]:
    file = store.sqlite_file()
    assert file is not None
    with closing(sqlite3.connect(file.path)) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def same_salts(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Evidence salts are random; make both paths draw the same ones (call before each path)."""

    def restart() -> None:
        salts = (f"{n:032x}" for n in itertools.count())
        monkeypatch.setattr(decisions_module, "new_salt", lambda: next(salts))

    return restart


async def test_the_writer_stores_what_the_repositories_store(
    stores: tuple[Store, Store],
    make_decision: Callable[..., Decision],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference, fast = stores
    file = fast.sqlite_file()
    assert file is not None
    writer = SqliteDecisionWriter(file)
    written: list[Decision] = []
    restart_salts = same_salts(monkeypatch)
    try:
        for n, batch in enumerate(batches(make_decision)):
            for store in (reference, fast):
                async with store.transaction() as tx:
                    await tx.audit.append(
                        "alice", "tenants.add", f"t{n}", {"after": {"n": n}}, at=T0
                    )
            restart_salts()
            async with reference.transaction() as tx:
                rows = await tx.decisions.add_many(batch)
                await tx.audit.append_many([audit_entry(row) for row in rows])
            restart_salts()
            await writer.write(unclaimed(batch), audit_entry)
            written.extend(batch)
    finally:
        writer.close()

    for table, order in (("decisions", "id"), ("audit_log", "seq")):
        assert raw_rows(fast, table, order) == raw_rows(reference, table, order), table
    for store in (reference, fast):
        async with store.transaction(readonly=True) as tx:
            for decision in written:
                stored = await tx.decisions.get(decision.decision_id)
                assert stored == decision
                assert stored is not None and stored.latency_ms == decision.latency_ms
            entries = await tx.audit.tail(100)
        assert [e.subject for e in entries if e.actor == "gate"] == [d.decision_id for d in written]
    settings = replace(
        Settings(),
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{file.path}"),
        audit=AuditSettings(
            checkpoint_file=str(tmp_path / "cp.jsonl"),
            signing_key_file=str(tmp_path / "signing.key"),
        ),
    )
    SigningKey.create(Path(settings.audit.signing_key_file))
    await service.write_checkpoint(fast, settings, now=T0)
    report = await service.verify(settings)
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints_checked) == (len(written) + 2, 1)


async def test_a_failed_write_leaves_nothing_behind(
    stores: tuple[Store, Store], make_decision: Callable[..., Decision]
) -> None:
    _, fast = stores
    file = fast.sqlite_file()
    assert file is not None
    writer = SqliteDecisionWriter(file)
    try:
        await writer.write(unclaimed([make_decision(decision_id="once")]), audit_entry)
        with pytest.raises(StorageError, match="IntegrityError: UNIQUE"):
            await writer.write(
                unclaimed([make_decision(), make_decision(decision_id="once")]), audit_entry
            )
        await writer.write(unclaimed([make_decision(decision_id="later")]), audit_entry)
    finally:
        writer.close()
    assert [row[1] for row in raw_rows(fast, "decisions", "id")] == ["once", "later"]
    assert [row[4] for row in raw_rows(fast, "audit_log", "seq")] == ["once", "later"]


async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_event_loop(
    stores: tuple[Store, Store], make_decision: Callable[..., Decision]
) -> None:
    """The CLI or another gate process holding the write lock must not stall calls: the batch
    waits for the lock without blocking the event loop, then commits."""
    _, fast = stores
    file = fast.sqlite_file()
    assert file is not None
    writer = SqliteDecisionWriter(file)
    other = sqlite3.connect(file.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        batch = [make_decision(decision_id="waited")]
        write = asyncio.create_task(writer.write(unclaimed(batch), audit_entry))
        # One turn of the loop runs the write's first step, which finds the lock held. Had it
        # waited inside SQLite (a busy handler), that step would have returned only once the
        # lock was free, which only this coroutine can do: the write would have failed.
        await asyncio.sleep(0)
        assert not write.done()
        other.execute("COMMIT")
        await asyncio.wait_for(write, 10)
    finally:
        other.close()
        writer.close()
    assert [row[1] for row in raw_rows(fast, "decisions", "id")] == ["waited"]
    assert [row[4] for row in raw_rows(fast, "audit_log", "seq")] == ["waited"]

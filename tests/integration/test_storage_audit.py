"""The admin-action log is a hash chain that never forks, on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from dialguard.storage import AuditEntry, Store
from dialguard.storage.audit import GENESIS_HASH, canonical_entry, canonical_json, entry_hash


def recomputed(entry: AuditEntry) -> str:
    return entry_hash(
        canonical_entry(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail_json=canonical_json(entry.detail),
            prev_hash=entry.prev_hash,
        )
    )


def assert_chain(entries: tuple[AuditEntry, ...]) -> None:
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    previous = GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == previous
        assert entry.hash == recomputed(entry)
        previous = entry.hash


async def test_entries_link_into_a_chain(store: Store) -> None:
    at = datetime(2024, 6, 3, 2, 0, 0, 123456, tzinfo=UTC)
    async with store.transaction() as tx:
        first = await tx.audit.append(
            "alice", "dnc.remove", "+8613800138000", {"before": {"scope": "tenant"}}, at=at
        )
        await tx.audit.append("bob", "numbers.add", "+862161234567", {"after": {"n": 1}})
        await tx.audit.append("bob", "tenant.ensure", "initech", None)
    async with store.transaction(readonly=True) as tx:
        entries = await tx.audit.tail(10)
        assert await tx.audit.tail(2) == entries[1:]
    assert entries[0] == first
    assert entries[0].at == at and entries[0].at.tzinfo is UTC
    assert entries[0].detail == {"before": {"scope": "tenant"}}
    assert_chain(entries)


async def test_concurrent_appends_never_fork(store: Store) -> None:
    async def append(n: int) -> None:
        async with store.transaction() as tx:
            await tx.audit.append("cli", "dnc.add", f"+86138001380{n:02d}", {"n": n})

    await asyncio.gather(*(append(n) for n in range(20)))
    async with store.transaction(readonly=True) as tx:
        entries = await tx.audit.tail(100)
    assert len(entries) == 20
    assert_chain(entries)

"""Append-only log of admin actions and gate decisions, linked into a SHA-256 hash chain.

Each entry's ``hash`` covers its own fields and ``prev_hash``, the hash of the entry before it, so
altering, removing or reordering any entry breaks every link after it. :func:`canonical_entry` is
the one definition of what is hashed; verification and Merkle checkpoints must reuse it.

The chain must never fork, so appends are serialised: on PostgreSQL by a transaction-scoped
advisory lock taken before the last entry is read; on SQLite by the write lock every writing
transaction takes at ``BEGIN IMMEDIATE``. ``seq`` is the primary key as a last line of defence:
two appends after the same entry cannot both commit.

Signed Merkle checkpoints over the entries (:mod:`dialguard.audit`) are written outside the
database; ``dialguard audit verify`` re-checks all of it with its own reading code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from ._common import utcnow
from .canonical import canonical_json as canonical_json
from .records import AuditEntry
from .schema import audit_log as t

GENESIS_HASH = "0" * 64
_CHAIN_LOCK = 0x6469616C_61756474  # "dialaudt"
_LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_CHAIN_LOCK)


def canonical_entry(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail_json: str,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash is taken over. ``detail_json`` is the stored canonical text of
    ``detail`` (kept verbatim in the table, so re-hashing never depends on a JSON round trip)."""
    return canonical_json(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail_json,
            "prev_hash": prev_hash,
        }
    ).encode("utf-8")


def entry_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class NewEntry:
    actor: str
    action: str
    subject: str
    detail: Any
    at: datetime


TAIL = select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)
"""The last entry's ``seq`` and ``hash``: what the next entry links to."""


def chain_rows(new: Sequence[NewEntry], last: Any) -> list[dict[str, Any]]:
    """The ``audit_log`` rows of ``new``, linked after ``last`` (a :data:`TAIL` row, or None for
    an empty log). The one place entries are hashed on append (the decision log's SQLite writer
    inserts these rows too)."""
    seq, prev_hash = (0, GENESIS_HASH) if last is None else (last.seq, last.hash)
    rows: list[dict[str, Any]] = []
    for item in new:
        seq += 1
        at = item.at.astimezone(UTC)
        detail_json = canonical_json(item.detail)
        digest = entry_hash(
            canonical_entry(
                seq=seq,
                at=at,
                actor=item.actor,
                action=item.action,
                subject=item.subject,
                detail_json=detail_json,
                prev_hash=prev_hash,
            )
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": item.actor,
                "action": item.action,
                "subject": item.subject,
                "detail": detail_json,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    return rows


def append_many_sync(conn: Connection, new: Sequence[NewEntry]) -> None:
    """:meth:`AuditRepository.append_many` on a synchronous connection (migrations)."""
    if not new:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_CHAIN)
    conn.execute(t.insert(), chain_rows(new, conn.execute(TAIL).first()))


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail=json.loads(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(
        self, actor: str, action: str, subject: str, detail: Any, *, at: datetime | None = None
    ) -> AuditEntry:
        """Add an entry at the end of the chain. ``detail`` is any JSON value, typically
        ``{"before": …, "after": …}``."""
        (entry,) = await self.append_many(
            [NewEntry(actor, action, subject, detail, at or utcnow())]
        )
        return entry

    async def append_many(self, new: Sequence[NewEntry]) -> tuple[AuditEntry, ...]:
        """Append ``new`` in order: one read of the chain's tail and one multi-row insert, which
        is what lets the decision log's group commit audit every decision of a batch."""
        if not new:
            return ()
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_LOCK_CHAIN)
        last = (await self._conn.execute(TAIL)).first()
        rows = chain_rows(new, last)
        await self._conn.execute(t.insert(), rows)
        return tuple(
            AuditEntry(
                row["seq"],
                row["at"],
                row["actor"],
                row["action"],
                row["subject"],
                json.loads(row["detail"]),
                row["prev_hash"],
                row["hash"],
            )
            for row in rows
        )

    async def tail(self, n: int = 20) -> tuple[AuditEntry, ...]:
        """The last ``n`` entries, oldest first."""
        rows = await self._conn.execute(select(t).order_by(t.c.seq.desc()).limit(n))
        return tuple(reversed([_entry(row) for row in rows]))

    async def after(self, seq: int, limit: int) -> tuple[tuple[AuditEntry, bytes], ...]:
        """Up to ``limit`` entries after ``seq``, in order, each with its canonical bytes built
        from the stored detail text (the checkpoint writer's feed)."""
        rows = await self._conn.execute(
            select(t).where(t.c.seq > seq).order_by(t.c.seq).limit(limit)
        )
        return tuple(
            (
                _entry(row),
                canonical_entry(
                    seq=row.seq,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    subject=row.subject,
                    detail_json=row.detail,
                    prev_hash=row.prev_hash,
                ),
            )
            for row in rows
        )

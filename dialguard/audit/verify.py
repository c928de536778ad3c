"""``dialguard audit verify``: re-check the audit log without trusting the code that wrote it.

It reads the rows with its own SQL and parsing, recomputes every entry's hash from the stored
fields (the encoding is :func:`~dialguard.storage.audit.canonical_entry`, the log's one format
definition), follows the chain links, computes the Merkle root at each checkpoint's size its own
way (level by level, not the writer's accumulator), checks each checkpoint's Ed25519 signature
against a key the auditor trusts, and that the log still extends every checkpoint.

What it can and cannot see: a modified, deleted or reordered entry breaks a hash or a link and is
named. Entries cut off the *end* leave a shorter chain that is perfectly valid: only a checkpoint
taken before the cut shows it, and so does a chain rewritten and re-hashed wholesale.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from ..config import DatabaseSettings
from ..storage.audit import GENESIS_HASH, canonical_entry
from ..storage.engine import create_engine
from .checkpoint import Checkpoint, key_id_of
from .merkle import EMPTY_ROOT, leaf_hash, node_hash

_ROWS = text(
    "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq"
)


@dataclass(frozen=True)
class Problem:
    seq: int | None
    """The first entry concerned (None: a checkpoint problem not tied to one entry)."""
    message: str


@dataclass
class VerifyReport:
    entries: int = 0
    root_hash: str = EMPTY_ROOT.hex()
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    """Entry problems in log order (the first names the first bad entry), then checkpoints'."""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _instant(value: Any) -> datetime:
    """SQLite hands back the stored text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _rows(database: DatabaseSettings) -> AsyncIterator[Any]:
    engine = create_engine(database)
    try:
        async with engine.connect() as conn:
            result = await conn.stream(_ROWS)
            async for row in result:
                yield row
    finally:
        await engine.dispose()


class _Levels:
    """Every perfect, aligned subtree's hash, level by level: ``levels[h][i]`` covers leaves
    ``i·2^h … (i+1)·2^h - 1``. The root at any size folds the subtrees its binary digits name."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def root(self, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        pieces: list[bytes] = []
        start = 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size & (1 << height):
                pieces.append(self.levels[height][start >> height])
                start += 1 << height
        digest = pieces[-1]
        for piece in reversed(pieces[:-1]):
            digest = node_hash(piece, digest)
        return digest


def check_entries(rows: Sequence[Any], report: VerifyReport) -> list[bytes]:
    """Hashes and links, entry by entry; returns the leaf hashes of the rows as stored."""
    leaves: list[bytes] = []
    expected, previous = 1, GENESIS_HASH
    for row in rows:
        if row.seq != expected:
            gap = f"entries {expected}–{row.seq - 1}" if row.seq > expected + 1 else "it"
            report.problems.append(
                Problem(
                    expected,
                    f"entry {expected}: missing (the log jumps to {row.seq}; "
                    f"{gap} deleted or renumbered)",
                )
            )
        canonical = canonical_entry(
            seq=row.seq,
            at=_instant(row.at),
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            detail_json=row.detail,
            prev_hash=row.prev_hash,
        )
        if hashlib.sha256(canonical).hexdigest() != row.hash:
            report.problems.append(
                Problem(row.seq, f"entry {row.seq}: contents do not match its hash (modified)")
            )
        elif row.prev_hash != previous:
            report.problems.append(
                Problem(
                    row.seq,
                    f"entry {row.seq}: does not link to the entry before it (an earlier entry "
                    "was modified, removed or reordered)",
                )
            )
        leaves.append(leaf_hash(canonical))
        expected, previous = row.seq + 1, row.hash
    report.entries = len(leaves)
    return leaves


def check_checkpoints(
    levels: _Levels,
    checkpoints: Sequence[Checkpoint],
    public: Ed25519PublicKey,
    report: VerifyReport,
) -> None:
    size = len(levels.levels[0])
    trusted = key_id_of(public)
    consistent_up_to = 0
    for checkpoint in checkpoints:
        report.checkpoints_checked += 1
        label = f"checkpoint of {checkpoint.timestamp.isoformat()} (size {checkpoint.tree_size})"
        if checkpoint.key_id != trusted or not checkpoint.verify(public):
            report.problems.append(Problem(None, f"{label}: signature does not verify"))
            continue
        if checkpoint.tree_size > size:
            report.problems.append(
                Problem(
                    size + 1,
                    f"entry {size + 1}: missing — the log has {size} entries, "
                    f"the {label} covers more: truncated",
                )
            )
            continue
        if levels.root(checkpoint.tree_size).hex() != checkpoint.root_hash:
            report.problems.append(
                Problem(
                    consistent_up_to + 1,
                    f"entries {consistent_up_to + 1}–{checkpoint.tree_size}: the log no longer "
                    f"extends the {label} (rewritten since it was signed)",
                )
            )
            continue
        consistent_up_to = max(consistent_up_to, checkpoint.tree_size)


async def verify_log(
    database: DatabaseSettings,
    checkpoints: Sequence[Checkpoint] = (),
    public: Ed25519PublicKey | None = None,
) -> VerifyReport:
    """Verify the whole log, against ``checkpoints`` when given (then ``public`` is needed)."""
    report = VerifyReport()
    rows = [row async for row in _rows(database)]
    levels = _Levels(check_entries(rows, report))
    report.root_hash = levels.root(report.entries).hex()
    if checkpoints:
        if public is None:
            raise ValueError("checking checkpoints needs the public key")
        check_checkpoints(levels, checkpoints, public, report)
    else:
        report.notes.append(
            "no checkpoints checked: entries removed from the end of the log cannot be detected"
        )
    return report

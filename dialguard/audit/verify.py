"""``dialguard audit verify``: re-check the audit log without trusting the code that wrote it.

It reads the entries with its own SQL and parsing, recomputes every entry's hash from the stored
fields (the encoding is :func:`~dialguard.storage.audit.canonical_entry`, the log's one format
definition), follows the chain links, computes the Merkle root at each checkpoint's size, checks
each checkpoint's Ed25519 signature against a key the auditor trusts, and that the log still
extends every checkpoint. Then it cross-checks the evidentiary rows against the digests the
entries carry (:mod:`.rows`). A value that cannot be read (a timestamp that is not one, a field
that is not text) is named as a modified entry, never an exception.

What it can and cannot see: a modified, deleted or reordered entry breaks a hash or a link and is
named. Entries cut off the *end* leave a shorter chain that is perfectly valid: only a checkpoint
taken before the cut shows it, and so does a chain rewritten and re-hashed wholesale; ``serve``
signs one every ``audit.checkpoint_interval_s``.

Incremental: given the state the last verification left (:mod:`.verified`), it starts at that
checkpoint — the tree's peaks there fold to its signed root, and the log must still hold its last
entry unchanged — and reads only the entries after it, and the rows they name or that were added
since. A full verification reads everything. Everything is read in one read-only transaction
(one snapshot, and no write lock), streamed, in memory that does not grow with the log.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from ..settings.database import DatabaseSettings
from ..storage.audit import GENESIS_HASH, canonical_entry
from ..storage.canonical import canonical_json
from ..storage.connection import WRITE_OPTION, create_engine
from ..storage.evidence import read_instant
from ..storage.row_digests import EVIDENCE_FIELDS
from .checkpoint import Checkpoint, key_id_of
from .merkle import EMPTY_ROOT, MerkleAccumulator, leaf_hash
from .rows import RowLedger, check_rows, row_totals
from .verified import VerifiedState

_ENTRIES = text(
    "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log"
    " WHERE seq > :after ORDER BY seq"
)
_ENTRY = text(
    "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log"
    " WHERE seq = :seq"
)
_LAST = text("SELECT max(seq) FROM audit_log")
PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class Problem:
    seq: int | None
    """The first entry concerned (None: a checkpoint problem not tied to one entry, or a row no
    entry vouches for)."""
    message: str
    row: str | None = None
    """``<table>/<key>`` for a row that does not match the entries."""


@dataclass
class VerifyReport:
    entries: int = 0
    root_hash: str = EMPTY_ROOT.hex()
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    """Entry problems in log order (the first names the first bad entry), then checkpoints',
    then rows'."""
    notes: list[str] = field(default_factory=list)
    checked_from: int = 1
    """The first entry read: 1, or the one after the last verified checkpoint."""
    rows_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Progress:
    """How far a verification is: ``phase`` is ``entries`` then ``rows``."""

    phase: str
    done: int
    total: int


OnProgress = Callable[[Progress], None]


@dataclass
class _Tree:
    """The Merkle tree and chain as read so far, and what they were at each checkpoint size."""

    tree: MerkleAccumulator
    last_hash: str
    sizes: frozenset[int]
    at_size: dict[int, tuple[bytes, list[tuple[int, bytes]], str]] = field(default_factory=dict)

    def add(self, leaf: bytes, entry_hash: str) -> None:
        self.tree.append(leaf)
        self.last_hash = entry_hash
        if self.tree.size in self.sizes:
            self.at_size[self.tree.size] = (self.tree.root(), self.tree.peaks, entry_hash)


def _canonical(row: Any) -> bytes:
    return canonical_entry(
        seq=row.seq,
        at=read_instant(row.at),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail_json=row.detail,
        prev_hash=row.prev_hash,
    )


def _vouch(row: Any, ledger: RowLedger, report: VerifyReport) -> None:
    """Put the evidence items of entry ``row`` in the ledger; a malformed one is a problem."""
    if not isinstance(row.detail, str) or '"evidence"' not in row.detail:
        return
    try:
        detail = json.loads(row.detail)
    except ValueError:
        report.problems.append(Problem(row.seq, f"entry {row.seq}: detail is not JSON (modified)"))
        return
    items = detail.get("evidence", []) if isinstance(detail, dict) else []
    for item in items if isinstance(items, list) else [items]:
        if (
            isinstance(item, dict)
            and item.get("table") in EVIDENCE_FIELDS
            and isinstance(item.get("key"), str)
            and (item.get("digest") is None or isinstance(item.get("digest"), str))
        ):
            ledger.vouch(item["table"], item["key"], item["digest"], row.seq)
        else:
            message = f"entry {row.seq}: malformed evidence item {canonical_json(item)[:80]}"
            report.problems.append(Problem(row.seq, message))


async def _check_entries(
    conn: AsyncConnection,
    tree: _Tree,
    ledger: RowLedger,
    report: VerifyReport,
    progress: Callable[[int], None],
) -> None:
    """Hashes and links, entry by entry, from the one after ``tree``'s size."""
    start = tree.tree.size
    expected = start + 1
    result = await conn.stream(_ENTRIES, {"after": start})
    async for page in result.partitions(PROGRESS_EVERY):
        for row in page:
            if row.seq != expected:
                gap = f"entries {expected}–{row.seq - 1}" if row.seq > expected + 1 else "it"
                report.problems.append(
                    Problem(
                        expected,
                        f"entry {expected}: missing (the log jumps to {row.seq}; "
                        f"{gap} deleted or renumbered)",
                    )
                )
            try:
                canonical = _canonical(row)
            except (TypeError, ValueError) as exc:
                report.problems.append(
                    Problem(row.seq, f"entry {row.seq}: unreadable field ({exc}) (modified)")
                )
                canonical = b""
            else:
                if hashlib.sha256(canonical).hexdigest() != row.hash:
                    what = "contents do not match its hash (modified)"
                    report.problems.append(Problem(row.seq, f"entry {row.seq}: {what}"))
                elif row.prev_hash != tree.last_hash:
                    report.problems.append(
                        Problem(
                            row.seq,
                            f"entry {row.seq}: does not link to the entry before it (an earlier "
                            "entry was modified, removed or reordered)",
                        )
                    )
            _vouch(row, ledger, report)
            tree.add(leaf_hash(canonical), str(row.hash))
            expected = row.seq + 1
        progress(tree.tree.size - start)
    report.entries = tree.tree.size


def _check_checkpoints(
    tree: _Tree,
    start: int,
    checkpoints: Sequence[Checkpoint],
    public: Ed25519PublicKey,
    report: VerifyReport,
) -> None:
    size = tree.tree.size
    trusted = key_id_of(public)
    consistent_up_to = start
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
        if checkpoint.tree_size <= start:
            continue  # verified before, and the state it resumed from ends on one of them
        root = tree.at_size[checkpoint.tree_size][0]
        if root.hex() != checkpoint.root_hash:
            report.problems.append(
                Problem(
                    consistent_up_to + 1,
                    f"entries {consistent_up_to + 1}–{checkpoint.tree_size}: the log no longer "
                    f"extends the {label} (rewritten since it was signed)",
                )
            )
            continue
        consistent_up_to = max(consistent_up_to, checkpoint.tree_size)


def _is_entry(row: Any, entry_hash: str) -> bool:
    """``row`` is stored with hash ``entry_hash`` and its fields still make that hash."""
    try:
        return bool(row.hash == entry_hash == hashlib.sha256(_canonical(row)).hexdigest())
    except (TypeError, ValueError):
        return False


async def _resume(
    conn: AsyncConnection,
    state: VerifiedState | None,
    checkpoints: Sequence[Checkpoint],
    public: Ed25519PublicKey | None,
    report: VerifyReport,
) -> VerifiedState | None:
    """``state`` if verification may start from it, else None (and why, in the notes)."""
    if state is None or public is None:
        return None
    if not state.matches(checkpoints, public):
        report.notes.append(
            "the last verification's state matches no checkpoint signed by this key: "
            "verifying the whole log"
        )
        return None
    if state.tree_size > 0:
        found = (await conn.execute(_ENTRY, {"seq": state.tree_size})).first()
        if found is None or not _is_entry(found, state.last_hash):
            report.notes.append(
                f"entry {state.tree_size}, verified on {state.verified_at.isoformat()}, has "
                "changed or gone since: verifying the whole log"
            )
            return None
    report.notes.append(
        f"entries 1–{state.tree_size} were verified on {state.verified_at.isoformat()} up to a "
        "signed checkpoint and are not re-read, nor are rows only they name (a full "
        "verification re-reads everything)"
    )
    return state


def _next_state(
    tree: _Tree, resumed: VerifiedState | None, marks: dict[str, int], now: datetime
) -> VerifiedState | None:
    """Where the next verification may start: the last checkpoint that verified now."""
    if tree.at_size:
        size = max(tree.at_size)
        root, peaks, last_hash = tree.at_size[size]
        hex_peaks = tuple((height, digest.hex()) for height, digest in peaks)
        return VerifiedState(size, root.hex(), hex_peaks, last_hash, now, marks)
    if resumed is not None:
        return VerifiedState(
            resumed.tree_size, resumed.root_hash, resumed.peaks, resumed.last_hash, now, marks
        )
    return None


async def _snapshot(conn: AsyncConnection) -> AsyncConnection:
    """One read-only transaction: SQLite's plain ``BEGIN`` (never the write lock the gate's
    writers need), PostgreSQL's repeatable read."""
    if conn.dialect.name == "sqlite":
        return await conn.execution_options(**{WRITE_OPTION: False})
    return await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


async def verify_log(
    database: DatabaseSettings,
    checkpoints: Sequence[Checkpoint] = (),
    public: Ed25519PublicKey | None = None,
    *,
    state: VerifiedState | None = None,
    on_progress: OnProgress | None = None,
    now: datetime | None = None,
) -> tuple[VerifyReport, VerifiedState | None]:
    """Verify the log, against ``checkpoints`` when given (then ``public`` is needed), from
    ``state`` when it is usable; returns the report and the state to keep for the next run
    (None when there were problems or no checkpoint to anchor it)."""
    if checkpoints and public is None:
        raise ValueError("checking checkpoints needs the public key")
    report = VerifyReport()
    notify = on_progress or (lambda _: None)
    engine = create_engine(database)
    try:
        async with engine.connect() as raw:
            conn = await _snapshot(raw)
            async with conn.begin():
                resumed = await _resume(conn, state, checkpoints, public, report)
                with tempfile.TemporaryDirectory(prefix="dialguard-verify-") as scratch:
                    ledger = RowLedger(Path(scratch))
                    try:
                        tree, marks = await _run(
                            conn, resumed, checkpoints, public, ledger, report, notify
                        )
                    finally:
                        ledger.close()
    finally:
        await engine.dispose()
    if not checkpoints:
        report.notes.append(
            "no checkpoints checked: entries removed from the end of the log cannot be detected"
        )
    kept = _next_state(tree, resumed, marks, now or datetime.now(UTC))
    return report, kept if report.ok else None


async def _run(
    conn: AsyncConnection,
    resumed: VerifiedState | None,
    checkpoints: Sequence[Checkpoint],
    public: Ed25519PublicKey | None,
    ledger: RowLedger,
    report: VerifyReport,
    notify: OnProgress,
) -> tuple[_Tree, dict[str, int]]:
    start = resumed.tree_size if resumed else 0
    sizes = frozenset(c.tree_size for c in checkpoints if c.tree_size > start)
    if resumed is None:
        tree = _Tree(MerkleAccumulator(), GENESIS_HASH, sizes)
    else:
        tree = _Tree(resumed.tree(), resumed.last_hash, sizes)
    report.checked_from = start + 1
    last = int((await conn.execute(_LAST)).scalar() or 0)
    total = max(last - start, 0)
    notify(Progress("entries", 0, total))
    await _check_entries(
        conn, tree, ledger, report, lambda done: notify(Progress("entries", done, total))
    )
    notify(Progress("entries", report.entries - start, report.entries - start))
    report.root_hash = tree.tree.root().hex()
    if public is not None:
        _check_checkpoints(tree, start, checkpoints, public, report)
    marks = resumed.row_marks if resumed else {}
    rows_total = await row_totals(conn, marks, ledger)
    notify(Progress("rows", 0, rows_total))
    row_problems, new_marks, report.rows_checked = await check_rows(
        conn, ledger, marks, lambda done: notify(Progress("rows", done, max(done, rows_total)))
    )
    notify(Progress("rows", report.rows_checked, report.rows_checked))
    report.problems.extend(Problem(p.seq, p.message, p.row) for p in row_problems)
    return tree, new_marks

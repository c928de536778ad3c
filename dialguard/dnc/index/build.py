"""Building index files: full imports, compaction, and the atomic swap that publishes them.

A build never touches the live file. It writes ``<index>.tmp-<pid>``, fsyncs it, then, holding
the journal lock, renames it over the live path, fsyncs the directory and resets the journal to
the new generation. Readers keep answering from their old mapping until their next lookup sees
the journal's sequence number move; they then map the new file (see :class:`DncIndex`).
Journal records appended while the build ran are carried into the new generation's journal, so an
opt-out taken during a long import is not lost.
"""

from __future__ import annotations

import mmap
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ...files.modes import GROUP_READABLE, create_file
from .codec import Block, decode, encode, sorted_blocks
from .format import (
    BUCKET_SPAN,
    BUCKETS,
    DATA_POS,
    HEADER_SIZE,
    OFFSETS_POS,
    OFFSETS_SIZE,
    CorruptIndexError,
    DncIndexError,
    Header,
    NumberPlan,
)
from .journal import (
    JOURNAL_HEADER_SIZE,
    Entries,
    Journal,
    JournalState,
    journal_path,
    replay,
)
from .parse import Keys, Layout, ParseReport, read_full_list

DECODE_BLOCK_BYTES = 3 << 19  # ~2M keys a block at realistic densities
DECODE_BLOCK_BUCKETS = 50_000


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build wrote: the new header and, for an import, what reading the list found."""

    header: Header
    report: ParseReport | None


def read_header(path: Path) -> Header:
    """The checked header of the index file at ``path``."""
    with path.open("rb") as handle:
        return Header.unpack(handle.read(HEADER_SIZE), str(path))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(
    tmp: Path, blocks: Iterable[Block], plan: NumberPlan, generation: int, source_lines: int
) -> Header:
    """Write a complete index to ``tmp`` from ascending blocks and fsync it."""
    lengths = np.zeros(BUCKETS, dtype=np.int64)
    data_crc = 0
    count = 0
    tmp.unlink(missing_ok=True)  # left by a crashed build of a process with the same pid
    with os.fdopen(create_file(tmp, os.O_WRONLY, GROUP_READABLE), "wb") as handle:
        handle.seek(DATA_POS)
        for block in blocks:
            encoded = encode(block)
            lengths[block.b0 : block.b1] = encoded.lengths
            handle.write(encoded.data.data)
            data_crc = zlib.crc32(encoded.data.data, data_crc)
            count += len(block.keys)
        offsets = np.zeros(BUCKETS + 1, dtype="<u4")
        np.cumsum(lengths, out=offsets[1:])
        offsets_bytes = offsets.tobytes()
        header = Header(
            plan=plan,
            generation=generation,
            count=count,
            source_lines=source_lines,
            data_len=int(offsets[-1]),
            offsets_crc=zlib.crc32(offsets_bytes),
            data_crc=data_crc,
        )
        handle.seek(OFFSETS_POS)
        handle.write(offsets_bytes)
        handle.seek(0)
        handle.write(header.pack())
        handle.truncate(header.file_size)
        handle.flush()
        os.fsync(handle.fileno())
    return header


def _publish(tmp: Path, out_path: Path, journal: Journal, start: JournalState, gen: int) -> None:
    """Rename ``tmp`` over ``out_path`` and move the journal to generation ``gen``.

    Records committed after ``start`` (while the new file was being built) are carried over,
    unless another build swapped in a generation meanwhile.
    """
    with journal.locked():
        state = journal.state()
        carried: Entries = np.empty(0, dtype=np.uint64)
        if state.base_generation == start.base_generation and state.committed > start.committed:
            carried = journal.read(start.committed, state.committed)
        os.replace(tmp, out_path)
        _fsync_dir(out_path)
        journal.reset(gen, carried)


def _next_generation(out_path: Path, journal: JournalState) -> int:
    """One more than the live file's and the journal's generation, whichever is higher."""
    try:
        current = read_header(out_path).generation
    except (FileNotFoundError, CorruptIndexError):
        current = 0
    return max(current, journal.base_generation) + 1


def _swap_in(
    out_path: Path, blocks: Iterable[Block], plan: NumberPlan, source_lines: int,
    journal: Journal, start: JournalState,
) -> Header:  # fmt: skip
    """Write the next generation from ``blocks`` and publish it."""
    generation = _next_generation(out_path, start)
    tmp = out_path.with_name(f"{out_path.name}.tmp-{os.getpid()}")
    try:
        header = _write_file(tmp, blocks, plan, generation, source_lines)
        _publish(tmp, out_path, journal, start, generation)
    finally:
        tmp.unlink(missing_ok=True)
    return header


def build_index(
    source: Path | npt.NDArray[np.integer],
    out_path: Path,
    plan: NumberPlan,
    *,
    layout: Layout = "ftc",
    max_bad_lines: int = 0,
) -> BuildResult:
    """Import a full list into ``out_path`` as the next generation and swap it in atomically.

    ``source`` is a list file (``layout`` says which, see :mod:`.parse`) or an array of national
    numbers. The previous generation's journal is dropped, except for the records appended
    while this build ran. Peak memory is about 8 bytes per line of the list.
    """
    out_path = Path(out_path)
    journal = Journal(journal_path(out_path))
    try:
        start = journal.state()
        report: ParseReport | None = None
        if isinstance(source, np.ndarray):
            keys = _keys_from_numbers(source, plan)
            lines = len(keys)
        else:
            keys, report = read_full_list(Path(source), plan, layout, max_bad_lines)
            lines = report.lines
        keys.sort()
        header = _swap_in(out_path, sorted_blocks(keys), plan, lines, journal, start)
    finally:
        journal.close()
    return BuildResult(header, report)


def _keys_from_numbers(numbers: npt.NDArray[np.integer], plan: NumberPlan) -> Keys:
    national = numbers.astype(np.uint64)
    exchange = (national // np.uint64(BUCKET_SPAN)) % np.uint64(1000)
    bad = (
        (national < np.uint64(plan.low))
        | (national > np.uint64(plan.high))
        | (exchange < np.uint64(plan.min_exchange))
    )
    if bad.any():
        first = int(national[np.flatnonzero(bad)[0]])
        raise ValueError(f"{int(bad.sum())} number(s) are not {plan.name} numbers, e.g. {first}")
    return national - np.uint64(plan.key_base)


def read_blocks(path: Path) -> Iterator[Block]:
    """Decode the index at ``path`` block by block (every bucket, empty ones included)."""
    header = read_header(path)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        raw = np.frombuffer(mm, dtype=np.uint8)
        try:
            offsets = raw[OFFSETS_POS : OFFSETS_POS + OFFSETS_SIZE].view("<u4").astype(np.int64)
            data = raw[DATA_POS : DATA_POS + header.data_len]
            b0 = 0
            while b0 < BUCKETS:
                limit = offsets[b0] + DECODE_BLOCK_BYTES
                b1 = int(np.searchsorted(offsets, limit, side="right")) - 1
                b1 = min(max(b1, b0 + 1), b0 + DECODE_BLOCK_BUCKETS, BUCKETS)
                lengths = np.diff(offsets[b0 : b1 + 1])
                yield Block(b0, b1, decode(b0, lengths, data[offsets[b0] : offsets[b1]]))
                b0 = b1
        finally:
            del raw, offsets, data


def _merge(blocks: Iterable[Block], adds: Keys, removes: Keys) -> Iterator[Block]:
    """Blocks with sorted ``removes`` taken out and sorted ``adds`` put in.

    Binary searches into the block's sorted keys, not ``isin``/``union1d``: those hash or sort
    the whole block again for a change list that is tiny next to it."""
    for block in blocks:
        lo, hi = np.uint64(block.b0 * BUCKET_SPAN), np.uint64(block.b1 * BUCKET_SPAN)
        add = adds[np.searchsorted(adds, lo) : np.searchsorted(adds, hi)]
        rem = removes[np.searchsorted(removes, lo) : np.searchsorted(removes, hi)]
        keys = block.keys
        if len(rem) and len(keys):
            at = np.searchsorted(keys, rem)
            at = at[at < len(keys)]
            keys = np.delete(keys, at[keys[at] == rem[: len(at)]])
        if len(add):
            at = np.searchsorted(keys, add)
            present = at < len(keys)
            present[present] = keys[at[present]] == add[present]
            keys = np.insert(keys, at[~present], add[~present])
        yield Block(block.b0, block.b1, keys)


def compact(path: Path) -> Header:
    """Fold the journal into a new base generation and swap it in; returns the new header."""
    path = Path(path)
    header = read_header(path)
    journal = Journal(journal_path(path))
    try:
        state = journal.state()
        if state.base_generation != header.generation:
            raise DncIndexError(
                f"{path}: journal is for generation {state.base_generation}, the index is "
                f"generation {header.generation}; nothing to compact"
            )
        added: set[int] = set()
        removed: set[int] = set()
        replay(journal.read(JOURNAL_HEADER_SIZE, state.committed).tolist(), added, removed)
        adds = np.array(sorted(added), dtype=np.uint64)
        removes = np.array(sorted(removed), dtype=np.uint64)
        blocks = _merge(read_blocks(path), adds, removes)
        return _swap_in(path, blocks, header.plan, header.source_lines, journal, state)
    finally:
        journal.close()

"""The change journal beside an index file: opt-outs and removals since the base was built.

``<index>.journal`` layout (little-endian)::

    offset 0     header (JOURNAL_HEADER_SIZE bytes): magic, version, base generation,
                 committed length, sequence number; zero padded
    offset 4096  records, back to back up to the committed length; each is
                 uint32 entry count, uint32 CRC-32 of the entries, then the entries:
                 uint64 key, with REMOVE_FLAG set for a removal

Writers hold an exclusive ``flock`` on the journal. An append writes the record at the committed
length, fsyncs, then rewrites the header with the new length and ``seq + 1`` and fsyncs again, so
a crash leaves at most an ignored tail. Every reader maps the header page shared and compares
``seq`` with the last value it saw on every lookup (one memory read); a change means new records
or a new base generation. Records apply only to the base whose generation the header names:
after a full import or a compaction the journal is reset to the new generation, and the records
written while the new base was being built are carried over.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ...files.modes import GROUP_READABLE, open_file
from .format import CorruptIndexError

JOURNAL_MAGIC = b"DGDNCJL\x00"
JOURNAL_VERSION = 1
JOURNAL_HEADER_SIZE = 4096
REMOVE_FLAG = 1 << 63

_HEADER = struct.Struct("<8sIIQQQ")  # magic, version, reserved, base generation, committed, seq
SEQ_INDEX = 4  # the header as uint64 words: seq is word 4 (byte 32)
_RECORD = struct.Struct("<II")

Entries = npt.NDArray[np.uint64]


def journal_path(index_path: Path) -> Path:
    """Where the journal of ``index_path`` lives."""
    return index_path.with_name(index_path.name + ".journal")


@dataclass(frozen=True, slots=True)
class JournalState:
    base_generation: int
    committed: int
    seq: int


def encode_entries(adds: Entries, removes: Entries) -> Entries:
    """One record's entries: removals flagged, additions as they are (removals first)."""
    return np.concatenate([removes | np.uint64(REMOVE_FLAG), adds]).astype(np.uint64)


class Journal:
    """An open journal file: the writer operations and the reader's view of the header."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = open_file(path, os.O_RDWR, GROUP_READABLE)
        except PermissionError:  # a gate that may read but not write: writes will fail
            self._fd = os.open(path, os.O_RDONLY)
        try:
            with self.locked():
                if os.fstat(self._fd).st_size < JOURNAL_HEADER_SIZE:
                    self._write_header(JournalState(0, JOURNAL_HEADER_SIZE, 0))
            self._map = mmap.mmap(self._fd, JOURNAL_HEADER_SIZE, access=mmap.ACCESS_READ)
        except BaseException:
            os.close(self._fd)
            raise
        self._view = memoryview(self._map)
        self.words = self._view.cast("Q")
        """The header as uint64 words; ``words[SEQ_INDEX]`` is the change sequence number."""
        self.state()  # fail early on a foreign or damaged file

    def close(self) -> None:
        self.words.release()
        self._view.release()
        self._map.close()
        os.close(self._fd)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writers' lock (readers never take it)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def state(self) -> JournalState:
        """A consistent snapshot of the header (retried while a writer is rewriting it)."""
        while True:
            before = self.words[SEQ_INDEX]
            magic, version, _, base_generation, committed, seq = _HEADER.unpack_from(self._map)
            if self.words[SEQ_INDEX] == before == seq:
                break
        if magic != JOURNAL_MAGIC or version != JOURNAL_VERSION:
            raise CorruptIndexError(f"{self.path}: not a dialguard DNC journal (version {version})")
        if committed < JOURNAL_HEADER_SIZE:
            raise CorruptIndexError(f"{self.path}: committed length {committed} is too small")
        return JournalState(base_generation, committed, seq)

    def read(self, start: int, end: int) -> Entries:
        """The entries of the records in ``[start, end)``; raises if one fails its CRC."""
        raw = os.pread(self._fd, end - start, start)
        if len(raw) != end - start:
            raise CorruptIndexError(f"{self.path}: journal shorter than its committed length")
        parts: list[Entries] = []
        pos = 0
        while pos < len(raw):
            count, crc = _RECORD.unpack_from(raw, pos)
            body = raw[pos + _RECORD.size : pos + _RECORD.size + 8 * count]
            if len(body) != 8 * count or zlib.crc32(body) != crc:
                raise CorruptIndexError(f"{self.path}: record at byte {start + pos} is damaged")
            parts.append(np.frombuffer(body, dtype="<u8").astype(np.uint64))
            pos += _RECORD.size + len(body)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)

    def append(self, entries: Entries) -> JournalState:
        """Append one record durably and publish it (caller holds :meth:`locked`)."""
        state = self.state()
        self._write_records(state.committed, entries)
        new = JournalState(state.base_generation, state.committed + _record_size(entries),
                           state.seq + 1)  # fmt: skip
        self._write_header(new)
        return new

    def reset(self, base_generation: int, carried: Entries) -> JournalState:
        """Start over for a new base, keeping ``carried`` entries (caller holds :meth:`locked`)."""
        state = self.state()
        os.ftruncate(self._fd, JOURNAL_HEADER_SIZE)
        committed = JOURNAL_HEADER_SIZE
        if len(carried):
            self._write_records(committed, carried)
            committed += _record_size(carried)
        new = JournalState(base_generation, committed, state.seq + 1)
        self._write_header(new)
        return new

    def _write_records(self, at: int, entries: Entries) -> None:
        body = entries.astype("<u8").tobytes()
        os.pwrite(self._fd, _RECORD.pack(len(entries), zlib.crc32(body)) + body, at)
        os.fsync(self._fd)

    def _write_header(self, state: JournalState) -> None:
        header = _HEADER.pack(JOURNAL_MAGIC, JOURNAL_VERSION, 0, state.base_generation,
                              state.committed, state.seq)  # fmt: skip
        os.pwrite(self._fd, header.ljust(JOURNAL_HEADER_SIZE, b"\x00"), 0)
        os.fsync(self._fd)


def replay(entries: Iterable[int], added: set[int], removed: set[int]) -> None:
    """Apply journal entries, in order, to the sets of keys added and removed since the base."""
    for value in entries:
        if value & REMOVE_FLAG:
            key = value ^ REMOVE_FLAG
            added.discard(key)
            removed.add(key)
        else:
            removed.discard(value)
            added.add(value)


def _record_size(entries: Entries) -> int:
    return _RECORD.size + 8 * len(entries)

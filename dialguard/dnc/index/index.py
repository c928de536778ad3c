"""The reader: a memory-mapped index plus the journal overlay, answering ``contains``.

The file is mapped read-only and shared, so several gate processes on one host share one copy in
the page cache. A lookup does no allocation beyond Python ints: two reads of the offsets table,
then a bit test (BITMAP), or a bisect over a memoryview (RUN16, GROUPED). Before that it compares
the journal's sequence number with the last one seen; when it moved, the reader replays the new
journal records into its overlay (two sets) and, if the base generation changed, maps the new file
and drops the old mapping. The reader is not thread-safe: use one instance per thread.
"""

from __future__ import annotations

import mmap
import os
import threading
import zlib
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import numpy as np

from .build import read_header
from .format import (
    BITMAP_LEN,
    BUCKET_SPAN,
    DATA_POS,
    GROUP_BITS,
    GROUPS,
    HEADER_SIZE,
    OFFSETS_POS,
    OFFSETS_SIZE,
    RUN16_MAX_LEN,
    CorruptIndexError,
    DncIndexError,
    Header,
    NumberPlan,
)
from .journal import (
    JOURNAL_HEADER_SIZE,
    SEQ_INDEX,
    Journal,
    JournalState,
    encode_entries,
    journal_path,
    replay,
)
from .parse import ChangeList, Keys, Layout, read_change_list

_GROUPS_MASK = (1 << GROUP_BITS) - 1


class _Mapping:
    """One mapped generation of the base file and the views lookups read through."""

    def __init__(self, path: Path, verify: bool, prefetch: bool) -> None:
        with path.open("rb") as handle:
            self.header = Header.unpack(handle.read(HEADER_SIZE), str(path))
            size = os.fstat(handle.fileno()).st_size
            if size != self.header.file_size:
                raise CorruptIndexError(
                    f"{path}: file is {size} bytes, its header says {self.header.file_size}"
                )
            self.map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if prefetch:  # start reading the file in; not on a remap, where it is in the cache
            self.map.madvise(mmap.MADV_WILLNEED)
        self.view = memoryview(self.map)
        self.offsets = self.view[OFFSETS_POS : OFFSETS_POS + OFFSETS_SIZE].cast("I")
        self.bytes = self.view[DATA_POS : DATA_POS + self.header.data_len]
        self.words = self.bytes.cast("H")
        if verify:
            try:
                self.verify(path)
            except BaseException:
                self.close()
                raise

    def verify(self, path: Path) -> None:
        if zlib.crc32(self.view[OFFSETS_POS : OFFSETS_POS + OFFSETS_SIZE]) != (
            self.header.offsets_crc
        ):
            raise CorruptIndexError(f"{path}: offsets table checksum mismatch")
        if zlib.crc32(self.bytes) != self.header.data_crc:
            raise CorruptIndexError(f"{path}: data region checksum mismatch")

    def close(self) -> None:
        for view in (self.words, self.bytes, self.offsets, self.view):
            view.release()
        self.map.close()


class DncIndex:
    """A read-only national DNC list with the journal's changes applied on top.

    Open with :meth:`open`; ask with :meth:`contains` (E.164 text) or :meth:`contains_national`
    (the national number as an int, the fast path); change with :meth:`apply_changes` or
    :meth:`apply_change_list`, which are durable (fsync'd journal) and visible to the next
    lookup in every process that has the index open.
    """

    def __init__(self, path: Path, mapping: _Mapping, journal: Journal) -> None:
        self.path = path
        self._mapping = mapping
        self._journal = journal
        self._seq_words = journal.words
        self._seen_seq = -1
        self._journal_pos = JOURNAL_HEADER_SIZE
        self._overlay_generation = -1
        self._added: set[int] = set()
        self._removed: set[int] = set()
        self._bind(mapping)
        self._refresh()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: bool = True) -> DncIndex:
        """Map the index at ``path`` and replay its journal.

        ``verify`` checks the CRC-32 of the offsets table and the data region (it reads the whole
        file once, which also pulls it into the page cache); the header is always checked.
        Raises :class:`CorruptIndexError` naming the file and the failed check.
        """
        path = Path(path)
        mapping = _Mapping(path, verify, prefetch=True)
        try:
            journal = Journal(journal_path(path))
        except BaseException:
            mapping.close()
            raise
        return cls(path, mapping, journal)

    def _bind(self, mapping: _Mapping) -> None:
        header = mapping.header
        self._offsets = mapping.offsets
        self._bytes = mapping.bytes
        self._words = mapping.words
        self._plan = header.plan
        self._prefix = header.plan.e164_prefix
        self._e164_len = len(self._prefix) + header.plan.national_digits
        self._key_base = header.plan.key_base
        self._low = header.plan.low
        self._high = header.plan.high

    @property
    def generation(self) -> int:
        """The generation of the base file lookups are answered from."""
        return self._mapping.header.generation

    @property
    def plan(self) -> NumberPlan:
        return self._plan

    @property
    def header(self) -> Header:
        return self._mapping.header

    @property
    def overlay_size(self) -> int:
        """How many keys the journal adds or removes on top of the base."""
        return len(self._added) + len(self._removed)

    def contains(self, e164: str) -> bool:
        """Whether the E.164 number is on the list.

        A number of another country, or one the plan cannot hold, is not on the list (False);
        text that is not E.164 digits at all raises ValueError.
        """
        if len(e164) != self._e164_len or not e164.startswith(self._prefix):
            if e164[:1] != "+" or not e164[1:].isdecimal():
                raise ValueError(f"expected an E.164 number such as '+12015550123', got {e164!r}")
            return False
        digits = e164[len(self._prefix) :]
        if not (digits.isascii() and digits.isdecimal()):
            raise ValueError(f"expected an E.164 number such as '+12015550123', got {e164!r}")
        return self.contains_national(int(digits))

    def contains_national(self, national: int) -> bool:
        """Whether the national number (e.g. ``2015550123``, ``13800138000``) is on the list."""
        if self._seq_words[SEQ_INDEX] != self._seen_seq:
            self._refresh()
        if not self._low <= national <= self._high:
            return False
        key = national - self._key_base
        if self._removed and key in self._removed:
            return False
        if self._added and key in self._added:
            return True
        bucket, low = divmod(key, BUCKET_SPAN)
        offsets = self._offsets
        start = offsets[bucket]
        length = offsets[bucket + 1] - start
        data = self._bytes
        if length == BITMAP_LEN:
            return bool(data[start + (low >> 3)] >> (low & 7) & 1)
        if length > RUN16_MAX_LEN:
            group = low >> GROUP_BITS
            first = start + GROUPS + sum(data[start : start + group])
            end = first + data[start + group]
            target = low & _GROUPS_MASK
            i = bisect_left(data, target, first, end)
            return i < end and data[i] == target
        if length:
            words = self._words
            end = (start + length) >> 1
            i = bisect_left(words, low, start >> 1, end)
            return i < end and words[i] == low
        return False

    def refresh(self) -> None:
        """Pick up journal changes and a new generation now (lookups also do this themselves)."""
        self._refresh()

    def _refresh(self) -> None:
        """Bring the mapping and the overlay up to the journal's current state."""
        while True:
            state = self._journal.state()
            if state.base_generation not in (0, self.generation):
                self._remap(state.base_generation)
            try:
                self._catch_up(state)
            except CorruptIndexError:
                if self._journal.state().seq == state.seq:
                    raise
                continue  # a writer rewrote the journal while we read it: read it again
            self._seen_seq = state.seq
            return

    def _catch_up(self, state: JournalState) -> None:
        """Replay the records this reader has not seen (all of them after a reset)."""
        if state.base_generation != self.generation:  # the journal is for another base
            self._reset_overlay(-1)
            return
        if self._overlay_generation != state.base_generation or state.committed < self._journal_pos:
            self._reset_overlay(state.base_generation)
        if state.committed > self._journal_pos:
            entries = self._journal.read(self._journal_pos, state.committed)
            replay(entries.tolist(), self._added, self._removed)
            self._journal_pos = state.committed

    def _reset_overlay(self, generation: int) -> None:
        self._added, self._removed = set(), set()
        self._journal_pos = JOURNAL_HEADER_SIZE
        self._overlay_generation = generation

    def _remap(self, wanted: int) -> None:
        """Map the file now at ``self.path`` if it is generation ``wanted``; else keep the old."""
        try:
            mapping = _Mapping(self.path, verify=False, prefetch=False)
        except (OSError, CorruptIndexError):
            return
        if mapping.header.generation != wanted:
            mapping.close()
            return
        old, self._mapping = self._mapping, mapping
        self._bind(mapping)
        # Unmapping the last map of a replaced file frees its page cache: milliseconds per
        # 100 MB. mmap.close() drops the GIL, so a thread keeps that off the lookup path.
        threading.Thread(target=old.close, name="dncindex-unmap", daemon=True).start()

    def _keys(self, numbers: Iterable[str | int]) -> Keys:
        keys: list[int] = []
        for number in numbers:
            national = self._national(number)
            if not self._plan.is_valid(national):
                raise ValueError(f"{number!r} is not a {self._plan.name} number")
            keys.append(national - self._key_base)
        return np.array(keys, dtype=np.uint64)

    def _national(self, number: str | int) -> int:
        if isinstance(number, int):
            return number
        digits = number[len(self._prefix) :]
        if not number.startswith(self._prefix) or not (digits.isascii() and digits.isdecimal()):
            raise ValueError(f"{number!r} is not an E.164 {self._plan.name} number")
        return int(digits)

    def apply_changes(
        self, adds: Iterable[str | int] = (), removes: Iterable[str | int] = ()
    ) -> int:
        """Durably add and remove numbers (E.164 text or national ints); returns how many.

        Removals are applied before additions within one call. The journal record is fsync'd
        before this returns, and the next lookup here or in any other process sees it.
        """
        return self._append(self._keys(adds), self._keys(removes))

    def apply_change_list(
        self, path: str | os.PathLike[str], layout: Layout = "ftc", max_bad_lines: int = 0
    ) -> ChangeList:
        """Apply a registry change-list file (see :mod:`.parse`) as one journal record."""
        changes = read_change_list(Path(path), self._plan, layout, max_bad_lines)
        self._append(changes.adds, changes.removes)
        return changes

    def _append(self, adds: Keys,
                removes: Keys) -> int:  # fmt: skip
        entries = encode_entries(adds, removes)
        if not len(entries):
            return 0
        with self._journal.locked():
            state = self._journal.state()
            live = read_header(self.path).generation
            if state.base_generation < live:  # a swap stopped between rename and journal reset
                self._journal.reset(live, np.empty(0, dtype=np.uint64))
            elif state.base_generation > live:
                raise DncIndexError(
                    f"{self.path}: journal is for generation {state.base_generation}, newer than "
                    f"the live file's {live}"
                )
            self._journal.append(entries)
        self._refresh()
        return len(entries)

    def close(self) -> None:
        """Unmap the file and close the journal; the index cannot be used afterwards."""
        self._mapping.close()
        self._journal.close()

    def __enter__(self) -> DncIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

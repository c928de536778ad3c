"""Vectorised encoding and decoding of bucket containers (layout in :mod:`.format`).

Both directions work on a *block*: a contiguous range of buckets ``[b0, b1)`` and the sorted,
duplicate-free keys that fall in it, so that memory stays bounded whatever the list size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .format import BITMAP_LEN, BUCKET_SPAN, GROUP_BITS, GROUPS, RUN16_MAX_LEN

Keys = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]

BLOCK_KEYS = 2_000_000
BLOCK_BUCKETS = 50_000
_SPAN = np.uint64(BUCKET_SPAN)


@dataclass(frozen=True, slots=True)
class Block:
    """Sorted unique keys of buckets ``[b0, b1)``."""

    b0: int
    b1: int
    keys: Keys


@dataclass(frozen=True, slots=True)
class Encoded:
    """Container lengths of buckets ``[b0, b1)`` and their bytes back to back."""

    lengths: Ints
    data: npt.NDArray[np.uint8]


def _exclusive_cumsum(values: Ints) -> Ints:
    out = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


def _ranges(starts: Ints, counts: Ints) -> Ints:
    """Concatenation of ``arange(s, s + c)`` for each start ``s`` and count ``c``."""
    total = int(counts.sum())
    offsets = np.repeat(starts - _exclusive_cumsum(counts)[:-1], counts)
    return offsets + np.arange(total, dtype=np.int64)


def sorted_blocks(keys: Keys) -> Iterator[Block]:
    """Cut sorted keys (duplicates allowed) into bucket-aligned blocks of unique keys."""
    start = 0
    while start < len(keys):
        probe = min(start + BLOCK_KEYS, len(keys) - 1)
        b0 = int(keys[start] // _SPAN)
        b1 = min(int(keys[probe] // _SPAN) + 1, b0 + BLOCK_BUCKETS)
        end = int(np.searchsorted(keys, np.uint64(b1 * BUCKET_SPAN), side="left"))
        part = keys[start:end]
        keep = np.empty(len(part), dtype=bool)
        keep[0] = True
        np.not_equal(part[1:], part[:-1], out=keep[1:])
        yield Block(b0, b1, part[keep])
        start = end


def encode(block: Block) -> Encoded:
    """Choose each bucket's container and lay the block's containers out back to back."""
    nb = block.b1 - block.b0
    bucket = (block.keys // _SPAN).astype(np.int64) - block.b0
    low = (block.keys % _SPAN).astype(np.int64)
    counts = np.bincount(bucket, minlength=nb).astype(np.int64)
    group = low >> GROUP_BITS
    gcounts = np.bincount(bucket * GROUPS + group, minlength=nb * GROUPS).reshape(nb, GROUPS)
    grouped_len = counts + GROUPS + ((counts + GROUPS) & 1)
    run = (counts > 0) & (2 * counts <= RUN16_MAX_LEN)
    grouped = (counts > 0) & ~run & (gcounts.max(axis=1) <= 255) & (grouped_len < BITMAP_LEN)
    bitmap = (counts > 0) & ~run & ~grouped
    lengths = np.select([run, grouped, bitmap], [2 * counts, grouped_len, BITMAP_LEN], 0)
    starts = _exclusive_cumsum(lengths)
    first = _exclusive_cumsum(counts)
    rank = np.arange(len(low), dtype=np.int64) - first[bucket]
    out = np.zeros(int(starts[-1]), dtype=np.uint8)

    m = run[bucket]
    pos = starts[bucket[m]] + 2 * rank[m]
    out[pos] = low[m] & 0xFF
    out[pos + 1] = low[m] >> 8

    gb = np.flatnonzero(grouped)
    out[(starts[gb][:, None] + np.arange(GROUPS)).ravel()] = gcounts[gb].ravel()
    m = grouped[bucket]
    out[starts[bucket[m]] + GROUPS + rank[m]] = low[m] & 0xFF

    m = bitmap[bucket]
    if m.any():
        byte_pos = starts[bucket[m]] + (low[m] >> 3)
        bits = np.left_shift(1, low[m] & 7).astype(np.uint8)
        heads = np.flatnonzero(np.r_[True, byte_pos[1:] != byte_pos[:-1]])
        out[byte_pos[heads]] = np.bitwise_or.reduceat(bits, heads)
    return Encoded(lengths, out)


def decode(b0: int, lengths: Ints, data: npt.NDArray[np.uint8]) -> Keys:
    """Sorted keys held by the containers of buckets ``[b0, b0 + len(lengths))``.

    ``data`` must start at the first container, at an even file offset.
    """
    starts = _exclusive_cumsum(lengths)[:-1]
    parts: list[Ints] = []

    rb = np.flatnonzero((lengths > 0) & (lengths <= RUN16_MAX_LEN))
    n = lengths[rb] // 2
    even = data[: len(data) & ~1].view("<u2")
    lows = even[_ranges(starts[rb] // 2, n)].astype(np.int64)
    parts.append(np.repeat(rb, n) * BUCKET_SPAN + lows)

    gb = np.flatnonzero((lengths > RUN16_MAX_LEN) & (lengths < BITMAP_LEN))
    gcounts = data[(starts[gb][:, None] + np.arange(GROUPS)).ravel()].astype(np.int64)
    n = gcounts.reshape(-1, GROUPS).sum(axis=1)
    low_bytes = data[_ranges(starts[gb] + GROUPS, n)].astype(np.int64)
    groups = np.repeat(np.tile(np.arange(GROUPS, dtype=np.int64), len(gb)), gcounts)
    parts.append(np.repeat(gb, n) * BUCKET_SPAN + (groups << GROUP_BITS) + low_bytes)

    bb = np.flatnonzero(lengths == BITMAP_LEN)
    rows = data[starts[bb][:, None] + np.arange(BITMAP_LEN)]
    row, col = np.nonzero(np.unpackbits(rows, axis=1, bitorder="little"))
    parts.append(bb[row] * BUCKET_SPAN + col)

    keys = np.sort(np.concatenate(parts))
    return (keys + b0 * BUCKET_SPAN).astype(np.uint64)

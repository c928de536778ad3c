"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, §2.1.1.

``MTH({d(0)}) = SHA-256(0x00 || d(0))``; for n > 1, with k the largest power of two below n,
``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``. The distinct prefixes keep a leaf
from ever passing for an inner node. :class:`MerkleAccumulator` is the writer's incremental form
(O(log n) state, so a checkpoint task reads only entries appended since the last one, and both
the writer and the verifier can resume from a checkpoint's :attr:`~MerkleAccumulator.peaks`);
the tests hold it to the recursive definition.
"""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty list (RFC 9162 §2.1.1)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaves: list[bytes]) -> bytes:
    """The recursive definition itself, over leaf hashes: the reference the others must match."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


class MerkleAccumulator:
    """Appends leaf hashes; :meth:`root` is MTH of everything appended so far.

    The state is the roots of the perfect subtrees the leaves decompose into, largest (leftmost)
    first, as the binary digits of the size: appending merges equal-sized neighbours like a
    binary counter carries. The root folds them right to left, which is the RFC's shape because
    its left subtree is always the largest perfect one.
    """

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[tuple[int, bytes]] = []

    @classmethod
    def resume(cls, size: int, peaks: list[tuple[int, bytes]]) -> MerkleAccumulator:
        """The accumulator of ``size`` leaves whose state was :attr:`peaks`. Raises ValueError
        if the heights are not the binary digits of ``size``; whether they are the *right*
        subtrees is for the caller to check (their :meth:`root` against a signed one)."""
        heights = [height for height, _ in peaks]
        expected = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
        if size < 0 or heights != expected:
            raise ValueError(f"peaks of heights {heights} do not make a tree of {size} leaves")
        resumed = cls()
        resumed._size = size
        resumed._peaks = list(peaks)
        return resumed

    @property
    def size(self) -> int:
        return self._size

    @property
    def peaks(self) -> list[tuple[int, bytes]]:
        """(height, hash) of each perfect subtree, largest first: the whole state."""
        return list(self._peaks)

    def append(self, leaf: bytes) -> None:
        height, digest = 0, leaf
        while self._peaks and self._peaks[-1][0] == height:
            _, left = self._peaks.pop()
            height, digest = height + 1, node_hash(left, digest)
        self._peaks.append((height, digest))
        self._size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        digest = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            digest = node_hash(left, digest)
        return digest

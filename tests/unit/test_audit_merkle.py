"""The Merkle accumulator (fresh, or resumed from a checkpoint's peaks) agrees with RFC 9162's
recursive definition at every size, and checkpoints sign exactly what they claim."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialguard.audit.checkpoint import (
    CheckpointFileError,
    SigningKey,
    append_checkpoint,
    load_public_key,
    read_checkpoints,
    read_last_checkpoint,
    read_resume_state,
)
from dialguard.audit.merkle import EMPTY_ROOT, MerkleAccumulator, leaf_hash, node_hash, root_of
from dialguard.files.keys import KeyFileError

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(70)]


def test_leaf_and_node_hashes_use_distinct_prefixes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_three_leaves_have_the_rfc_shape() -> None:
    a, b, c = LEAVES[:3]
    assert root_of([a, b, c]) == node_hash(node_hash(a, b), c)


@pytest.mark.parametrize("size", range(71))
def test_every_implementation_agrees_with_the_definition(size: int) -> None:
    tree = MerkleAccumulator()
    for leaf in LEAVES[:size]:
        tree.append(leaf)
    expected = root_of(LEAVES[:size])
    assert tree.size == size
    assert tree.root() == expected
    resumed = MerkleAccumulator.resume(size, tree.peaks)
    for leaf in LEAVES[size:]:
        resumed.append(leaf)
    assert resumed.root() == root_of(LEAVES)


def test_peaks_that_do_not_make_the_size_are_refused() -> None:
    tree = MerkleAccumulator()
    for leaf in LEAVES[:6]:
        tree.append(leaf)
    with pytest.raises(ValueError, match="do not make a tree of 7"):
        MerkleAccumulator.resume(7, tree.peaks)


def test_the_resume_file_carries_the_last_checkpoint_s_tree(tmp_path: Path) -> None:
    key = SigningKey.create(tmp_path / "k.pem")
    path = tmp_path / "cp.jsonl"
    for size in (5, 13):
        tree = MerkleAccumulator()
        for leaf in LEAVES[:size]:
            tree.append(leaf)
        append_checkpoint(path, key.sign_tree(tree, datetime(2026, 1, 1, tzinfo=UTC), "ab" * 32))
    lines = read_checkpoints(path)
    assert [(c.tree_size, c.last_hash, c.peaks) for c in lines] == [(5, None, ()), (13, None, ())]
    assert read_last_checkpoint(path) == lines[-1]
    state = read_resume_state(path)
    assert state is not None and state.verify(key.public) and state.tree_size == 13
    resumed = state.resume()
    assert resumed is not None and resumed[1] == "ab" * 32
    assert resumed[0].root() == root_of(LEAVES[:13])
    forged = replace(state, peaks=((3, "00" * 32), (2, "00" * 32), (0, "00" * 32)))
    assert forged.resume() is None


def test_a_checkpoint_verifies_only_under_its_key(tmp_path: Path) -> None:
    key = SigningKey.create(tmp_path / "k.pem")
    other = SigningKey.create(tmp_path / "other.pem")
    checkpoint = key.sign(5, root_of(LEAVES[:5]), datetime(2026, 1, 1, tzinfo=UTC))
    assert checkpoint.verify(key.public)
    assert not checkpoint.verify(other.public)
    path = tmp_path / "cp.jsonl"
    append_checkpoint(path, checkpoint)
    append_checkpoint(path, checkpoint)
    assert read_checkpoints(path) == [checkpoint, checkpoint]
    assert load_public_key(tmp_path / "k.pem").public_bytes_raw() == key.public.public_bytes_raw()


def test_key_files_are_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    SigningKey.create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(KeyFileError, match="already exists"):
        SigningKey.create(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        SigningKey.load(path)


def test_a_torn_checkpoint_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    path.write_text('{"tree_size": 3, "root_ha\n')
    with pytest.raises(CheckpointFileError, match=r"cp.jsonl:1"):
        read_checkpoints(path)

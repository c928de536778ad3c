"""dncindex on disk: the journal, its replay, compaction, and swaps under a reading index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dialguard.dnc.index import NANP, DncIndex, build_index, compact, read_blocks
from dialguard.dnc.index.codec import Block, sorted_blocks

BASE = [2_015_550_100, 2_015_550_101, 2_125_550_000, 9_999_999_999]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "us.dnc"
    build_index(np.array(BASE), path, NANP)
    return path


def test_changes_are_visible_at_once_here_and_in_another_open_index(path: Path) -> None:
    with DncIndex.open(path) as writer, DncIndex.open(path) as other:
        assert other.contains("+12015550100")
        writer.apply_changes(adds=["+12015550199"], removes=[2_015_550_100])
        assert writer.contains("+12015550199") and not writer.contains("+12015550100")
        assert other.contains("+12015550199") and not other.contains("+12015550100")
        writer.apply_changes(adds=[2_015_550_100])  # opted back in... to the list
        assert other.contains_national(2_015_550_100)


def test_the_journal_is_replayed_after_reopening(path: Path) -> None:
    with DncIndex.open(path) as index:
        index.apply_changes(adds=[2_035_550_123], removes=[2_125_550_000])
        generation = index.generation
    with DncIndex.open(path) as index:
        assert index.generation == generation
        assert index.contains_national(2_035_550_123)
        assert not index.contains_national(2_125_550_000)
        assert index.overlay_size == 2


def test_a_change_list_file_is_applied_as_one_record(path: Path, tmp_path: Path) -> None:
    changes = tmp_path / "changes.txt"
    changes.write_text("203,5550123,A,2024-06-01\n201,5550101,D,2024-06-01\n")
    with DncIndex.open(path) as index:
        applied = index.apply_change_list(changes)
        assert applied.report.numbers == 2
        assert index.contains_national(2_035_550_123)
        assert not index.contains_national(2_015_550_101)


def test_numbers_outside_the_plan_are_refused_by_apply_changes(path: Path) -> None:
    with DncIndex.open(path) as index, pytest.raises(ValueError, match="not a nanp number"):
        index.apply_changes(adds=[1_005_550_123])


def test_compaction_folds_the_journal_into_a_new_generation(path: Path) -> None:
    with DncIndex.open(path) as index:
        index.apply_changes(adds=[2_035_550_123], removes=[2_125_550_000])
        header = compact(path)
        assert header.generation == index.generation + 1
        assert index.contains_national(2_035_550_123)  # this lookup remaps
        assert index.generation == header.generation
        assert index.overlay_size == 0
        assert not index.contains_national(2_125_550_000)
    keys = np.concatenate([b.keys for b in read_blocks(path)]).tolist()
    assert keys == sorted([*BASE[:2], 2_035_550_123, 9_999_999_999])


def test_compaction_matches_set_arithmetic_on_a_larger_list(tmp_path: Path) -> None:
    """Adds already listed, removals never listed, changes at the ends of the list: the compacted
    generation holds exactly (list - removes) | adds."""
    rng = np.random.default_rng(8)
    exchanges = [npa * 10_000_000 + nxx * 10_000 for npa in (201, 212, 646, 917, 989)
                 for nxx in (234, 456, 789)]  # fmt: skip
    pool = np.array([base + line for base in exchanges for line in range(10_000)])
    listed = np.unique(rng.choice(pool, 60_000, replace=False))
    path = tmp_path / "big.dnc"
    build_index(listed, path, NANP)
    adds = {*rng.choice(pool, 3_000).tolist(), int(pool.min()), int(pool.max())}
    removes = {*rng.choice(listed, 2_000).tolist(), *rng.choice(pool, 500).tolist()}
    removes |= {int(listed.min()), int(listed.max())}
    removes -= adds  # one record applies removals first, then additions
    with DncIndex.open(path) as index:
        index.apply_changes(adds=sorted(adds), removes=sorted(removes))
    compact(path)
    expected = (set(listed.tolist()) - removes) | adds
    keys = np.concatenate([b.keys for b in read_blocks(path)]).tolist()
    assert keys == sorted(expected)


def test_a_full_import_drops_the_old_journal(path: Path) -> None:
    with DncIndex.open(path) as index:
        index.apply_changes(adds=[2_035_550_123])
        build_index(np.array([2_045_550_000]), path, NANP)
        assert index.contains_national(2_045_550_000)
        assert not index.contains_national(2_035_550_123)
        assert not index.contains_national(2_015_550_100)


def test_changes_made_while_an_import_runs_are_carried_over(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def opt_out_midway(keys: np.ndarray) -> Iterator[Block]:
        with DncIndex.open(path) as other:
            other.apply_changes(adds=[2_055_550_555, 2_055_550_556])
        yield from sorted_blocks(keys)

    monkeypatch.setattr("dialguard.dnc.index.build.sorted_blocks", opt_out_midway)
    with DncIndex.open(path) as reader:
        # The reader has read one 1-entry record; the carried one is longer, so the new
        # journal's end lies past this reader's old read position.
        reader.apply_changes(adds=[2_065_550_000])
        build_index(np.array([2_045_550_000]), path, NANP)
        assert reader.contains_national(2_045_550_000)  # this lookup remaps
        assert reader.contains_national(2_055_550_555)
        assert not reader.contains_national(2_065_550_000)
    with DncIndex.open(path) as index:
        assert index.contains_national(2_045_550_000)
        assert index.contains_national(2_055_550_555)


def test_swaps_while_another_index_is_reading(tmp_path: Path) -> None:
    """A reader keeps answering through five swaps; each answer is from one whole generation."""
    path = tmp_path / "swap.dnc"
    rng = np.random.default_rng(9)
    generations = [np.unique(rng.integers(2_002_000_000, 2_102_000_000, 200_000)) for _ in range(6)]
    generations = [g[((g // 10**4) % 1000) >= 200] for g in generations]
    build_index(generations[0], path, NANP)
    members = [set(g.tolist()) for g in generations]
    probes = rng.integers(2_002_000_000, 2_102_000_000, 2_000).tolist()
    errors: list[str] = []
    seen: set[int] = set()
    started = threading.Event()
    done = threading.Event()

    def read() -> None:
        with DncIndex.open(path) as reader:
            started.set()
            while not done.is_set() or reader.generation != len(generations):
                before = reader.generation
                answers = [reader.contains_national(n) for n in probes]
                after = reader.generation
                if before == after:
                    truth = members[after - 1]
                    if answers != [n in truth for n in probes]:
                        errors.append(f"generation {after}: wrong answers")
                seen.add(after)

    thread = threading.Thread(target=read)
    thread.start()
    started.wait()
    for numbers in generations[1:]:
        build_index(numbers, path, NANP)
    done.set()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert errors == []
    assert len(generations) in seen

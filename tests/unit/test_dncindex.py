"""dncindex: lookups against a Python set, bucket containers at their edges, list parsing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dialguard.dnc.index import (
    CN_MOBILE,
    NANP,
    CorruptIndexError,
    DncFormatError,
    DncIndex,
    build_index,
    read_blocks,
    read_change_list,
)
from dialguard.dnc.index.format import BITMAP_LEN, DATA_POS, OFFSETS_POS, RUN16_MAX_LEN
from dialguard.dnc.index.parse import read_full_list

EXCHANGE = 201_555  # NPA 201, NXX 555: bucket of national numbers 201555xxxx


def _valid_nanp(numbers: np.ndarray) -> np.ndarray:
    return numbers[((numbers // 10**4) % 1000) >= 200]


def _bucket_lengths(path: Path, buckets: list[int]) -> list[int]:
    raw = path.read_bytes()
    offsets = np.frombuffer(raw[OFFSETS_POS:DATA_POS], dtype="<u4").astype(np.int64)
    return [int(offsets[b + 1] - offsets[b]) for b in buckets]


@pytest.fixture(scope="module")
def big(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DncIndex, set[int], np.ndarray]]:
    """~3M numbers: uniform ones plus dense exchanges, so every container type is present."""
    rng = np.random.default_rng(42)
    parts = [rng.integers(2_002_000_000, 9_999_999_999, 2_500_000)]
    for i, share in enumerate([0.02, 0.05, 0.1, 0.3, 0.6, 0.95]):
        prefix = (300_200 + i * 7) * 10**4
        parts.append(prefix + np.flatnonzero(rng.random(10**4) < share))
    numbers = _valid_nanp(np.concatenate(parts))
    path = tmp_path_factory.mktemp("big") / "us.dnc"
    build_index(numbers, path, NANP)
    index = DncIndex.open(path)
    yield index, set(numbers.tolist()), numbers
    index.close()


def test_contains_matches_a_set_for_members_and_non_members(
    big: tuple[DncIndex, set[int], np.ndarray],
) -> None:
    index, members, numbers = big
    rng = np.random.default_rng(7)
    probes = np.concatenate(
        [
            numbers[rng.integers(0, len(numbers), 300_000)],
            rng.integers(2_000_000_000, 10**10, 300_000),
        ]
    ).tolist()
    wrong = [n for n in probes if index.contains_national(n) != (n in members)]
    assert wrong == []
    assert index.header.count == len(members)


def test_decoding_the_file_gives_back_the_sorted_unique_keys(
    big: tuple[DncIndex, set[int], np.ndarray],
) -> None:
    index, members, _ = big
    keys = np.concatenate([block.keys for block in read_blocks(index.path)])
    assert keys.tolist() == sorted(members)


def test_contains_takes_e164_and_rejects_what_is_not_e164(
    big: tuple[DncIndex, set[int], np.ndarray],
) -> None:
    index, _, numbers = big
    member = int(numbers[0])
    assert index.contains(f"+1{member}")
    assert not index.contains("+442071838750")  # another country: not on this list
    assert not index.contains("+11005550123")  # NPA 100 cannot exist
    for text in ["2015550123", "+1 201 555 0123", "+1201555O123", "", "+1２０１５５５０１２３"]:
        with pytest.raises(ValueError):
            index.contains(text)


@pytest.mark.parametrize(
    ("lows", "container"),
    [
        ([0], "run16"),
        ([9999], "run16"),
        ([0, 9999], "run16"),
        (list(range(0, 10_000, 250)), "run16"),  # 40 numbers: 80 bytes
        (list(range(0, 10_000, 243))[:41], "grouped"),  # 41 numbers
        ([*range(0, 255), 9999], "grouped"),  # one group holds 255
        ([*range(256, 512), 9999], "bitmap"),  # a full group cannot be counted in a byte
        (list(range(0, 10_000, 8)), "bitmap"),  # 1250 numbers
        (list(range(10_000)), "bitmap"),  # the full bucket
    ],
)
def test_bucket_edges(tmp_path: Path, lows: list[int], container: str) -> None:
    numbers = np.array([EXCHANGE * 10**4 + low for low in lows], dtype=np.int64)
    neighbours = np.array([(EXCHANGE - 1) * 10**4 + 9999, (EXCHANGE + 1) * 10**4])
    path = tmp_path / "edge.dnc"
    build_index(np.concatenate([numbers, neighbours]), path, NANP)
    (length,) = _bucket_lengths(path, [EXCHANGE])
    kind = "bitmap" if length == BITMAP_LEN else "grouped" if length > RUN16_MAX_LEN else "run16"
    assert kind == container
    wanted = set(lows)
    with DncIndex.open(path) as index:
        answers = [index.contains_national(EXCHANGE * 10**4 + low) for low in range(10_000)]
        assert [low for low, hit in enumerate(answers) if hit] == sorted(wanted)
        assert index.contains_national((EXCHANGE - 1) * 10**4 + 9999)
        assert not index.contains_national((EXCHANGE - 1) * 10**4 + 9998)
        assert index.contains_national((EXCHANGE + 1) * 10**4)
        assert not index.contains_national((EXCHANGE + 2) * 10**4)  # an empty bucket


def test_first_and_last_keys_and_an_empty_index(tmp_path: Path) -> None:
    path = tmp_path / "ends.dnc"
    build_index(np.array([2_002_000_000, 9_999_999_999]), path, NANP)
    with DncIndex.open(path) as index:
        assert index.contains_national(2_002_000_000)
        assert index.contains_national(9_999_999_999)
        assert not index.contains_national(9_999_999_998)
    build_index(np.array([], dtype=np.int64), path, NANP)
    with DncIndex.open(path) as index:
        assert index.header.count == 0
        assert not index.contains_national(2_002_000_000)


def test_numbers_outside_the_plan_are_refused_at_build(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not nanp numbers"):
        build_index(np.array([2_010_555_0123 // 10]), tmp_path / "x.dnc", NANP)


def test_cn_mobile_plan(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    numbers = rng.integers(13_000_000_000, 19_999_999_999, 200_000)
    listing = tmp_path / "cn.txt"
    listing.write_text("".join(f"{n}\n" for n in numbers.tolist()))
    path = tmp_path / "cn.dnc"
    result = build_index(listing, path, CN_MOBILE, layout="plain")
    assert result.report is not None and result.report.numbers == len(numbers)
    members = set(numbers.tolist())
    with DncIndex.open(path) as index:
        assert index.contains("+86" + str(numbers[0]))
        probes = rng.integers(13_000_000_000, 19_999_999_999, 50_000).tolist()
        assert all(index.contains_national(n) == (n in members) for n in probes)
        assert not index.contains("+8612345678901")  # not a mobile number


def _ftc(numbers: list[int]) -> str:
    return "".join(f"{n // 10**7},{n % 10**7:07d}\n" for n in numbers)


def test_ftc_flat_file_fast_and_line_by_line_paths_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    numbers = _valid_nanp(rng.integers(2_002_000_000, 9_999_999_999, 50_000)).tolist()
    clean = tmp_path / "clean.txt"
    clean.write_text(_ftc(numbers))
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(_ftc(numbers).replace("\n", "\r\n").encode())
    spaced = tmp_path / "spaced.txt"  # forces the line-by-line path
    spaced.write_text("\n" + _ftc(numbers).replace(",", " , ", 1))
    for path in (clean, crlf, spaced):
        keys, report = read_full_list(path, NANP, "ftc")
        assert sorted(keys.tolist()) == sorted(numbers), path.name
        assert report.bad_count == 0


def test_bad_lines_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    good = [2_015_550_123, 2_015_550_124, 2_015_550_125]
    lines = _ftc(good).splitlines()
    lines[1:1] = ["201,55501X4", "201,1550123", "hello"]  # lines 2, 3, 4
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DncFormatError) as caught:
        read_full_list(path, NANP, "ftc")
    bad = caught.value.bad_lines
    assert [b.line_no for b in bad] == [2, 3, 4]
    assert "line 2" in str(caught.value) and "not a nanp number" in bad[1].reason
    keys, report = read_full_list(path, NANP, "ftc", max_bad_lines=3)
    assert sorted(keys.tolist()) == good
    assert report.bad_count == 3 and report.lines == 6


def test_change_list_parsing(tmp_path: Path) -> None:
    path = tmp_path / "changes.txt"
    path.write_text(
        "201,5550123,A,2024-06-01\n201,5550124,D,2024-06-01\n\n201,5550125,X\n201,5550126\n"
    )
    with pytest.raises(DncFormatError) as caught:
        read_change_list(path, NANP)
    assert [b.line_no for b in caught.value.bad_lines] == [4, 5]
    changes = read_change_list(path, NANP, max_bad_lines=2)
    assert changes.adds.tolist() == [2_015_550_123]
    assert changes.removes.tolist() == [2_015_550_124]


@pytest.mark.parametrize(
    ("offset", "message"),
    [(0, "bad magic"), (30, "header checksum"), (OFFSETS_POS + 4, "offsets table checksum")],
)
def test_corruption_is_detected_on_open(tmp_path: Path, offset: int, message: str) -> None:
    path = tmp_path / "c.dnc"
    build_index(np.array([2_015_550_123, 2_025_550_123]), path, NANP)
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptIndexError, match=message):
        DncIndex.open(path)


def test_data_corruption_is_detected_when_verifying(tmp_path: Path) -> None:
    path = tmp_path / "d.dnc"
    build_index(np.array([2_015_550_123, 2_025_550_123]), path, NANP)
    raw = bytearray(path.read_bytes())
    raw[DATA_POS] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptIndexError, match="data region checksum"):
        DncIndex.open(path)
    DncIndex.open(path, verify=False).close()  # the header alone still checks out


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.dnc"
    build_index(np.array([2_015_550_123]), path, NANP)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CorruptIndexError, match="its header says"):
        DncIndex.open(path)

"""A national registry index as one more DNC fact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialguard.dnc.index import NANP, CorruptIndexError, build_index
from dialguard.dnc.national import NationalDnc
from dialguard.policy.model import DncScope

NOW = datetime(2026, 7, 8, 15, 0, tzinfo=UTC)


def test_listed_callee_gets_a_global_entry_per_registry(tmp_path: Path) -> None:
    listing = tmp_path / "us-full.txt"
    listing.write_text("201,2000000\n305,5550123\n")
    build_index(listing, tmp_path / "us.dnc", NANP)
    national = NationalDnc.open(f" {tmp_path / 'us.dnc'} ,")
    try:
        (entry,) = national.entries("+13055550123", NOW)
        assert entry.scope is DncScope.GLOBAL and entry.source == "national:us.dnc"
        assert national.entries("+13055550124", NOW) == ()
        assert national.entries("+8613800138000", NOW) == ()
    finally:
        national.close()
    assert NationalDnc.open("").entries("+13055550123", NOW) == ()


def test_an_unreadable_index_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "bad.dnc").write_bytes(b"not an index" * 100)
    with pytest.raises(CorruptIndexError):
        NationalDnc.open(str(tmp_path / "bad.dnc"))

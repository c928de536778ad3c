"""The policy book's layering: versions by effective date, the operator's overrides, and the
errors that name the file and key."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from dialguard.policy.book import PolicyBook, load_pack
from dialguard.policy.pack import PackError, shipped_packs_dir

CN = "+8613800138000"
NEW_YORK = "+12125550123"


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    shutil.copytree(shipped_packs_dir(), folder)
    return folder


def test_newest_version_in_force_on_the_date_applies(packs: Path) -> None:
    text = (packs / "cn.toml").read_text()
    newer = text.replace('version = "2026.1"', 'version = "2027.1"', 1)
    newer = newer.replace("effective_from = 2024-01-01", "effective_from = 2027-01-01", 1)
    (packs / "cn-2027.toml").write_text(newer.replace('start = "21:00"', 'start = "20:00"', 1))
    book = PolicyBook.load(directory=packs)
    before = book.for_callee("general", CN, date(2026, 12, 31))
    after = book.for_callee("general", CN, date(2027, 1, 1))
    assert (before.policy_version, before.quiet_start.hour) == ("cn-2026.1", 21)
    assert (after.policy_version, after.quiet_start.hour) == ("cn-2027.1", 20)
    # The overlay of 2026 still applies over the 2027 jurisdiction pack.
    assert book.for_callee("finance", CN, date(2027, 6, 1)).policy_version == (
        "cn-2027.1+cn-finance-2026.1"
    )


def test_overlay_and_jurisdiction_not_yet_in_force(packs: Path) -> None:
    for name in ("cn-finance.toml", "us.toml"):
        text = (packs / name).read_text()
        (packs / name).write_text(
            text.replace("effective_from = 2024-01-01", "effective_from = 2030-01-01").replace(
                "effective_from = 2025-01-01", "effective_from = 2030-01-01"
            )
        )
    book = PolicyBook.load(directory=packs)
    assert book.for_callee("finance", CN, date(2026, 6, 1)).policy_version == "cn-2026.1"
    assert book.for_callee("general", NEW_YORK, date(2026, 6, 1)).policy_version == "cn-2026.1"
    assert book.for_callee("general", NEW_YORK, date(2030, 6, 1)).policy_version == "us-2026.1"


def test_overrides_apply_last_to_their_pack_and_change_the_version(tmp_path: Path) -> None:
    overrides = tmp_path / "local.toml"
    overrides.write_text(
        '[quiet_hours]\nstart = "20:30"\n\n'
        '[packs.us.quiet_hours]\nend = "09:00"\n\n'
        "[packs.cn-finance.purposes.marketing]\nsms_confirmation = false\n"
    )
    book = PolicyBook.load(overrides_file=overrides)
    cn = book.for_callee("general", CN, None)
    assert cn.quiet_start.minute == 30 and cn.policy_version.startswith("cn-2026.1+local.")
    assert cn.sources["quiet_hours.start"] == f"overrides ({overrides})"
    finance = book.for_callee("finance", CN, None)
    assert not finance.purposes["marketing"].sms_confirmation
    assert finance.quiet_start.minute == 30
    us = book.for_callee("general", NEW_YORK, None)
    assert us.quiet_end.hour == 9 and us.quiet_start.hour == 21
    assert us.policy_version != "us-2026.1" and "+local." in us.policy_version
    # Packs the overrides do not touch keep their plain version.
    assert book.for_callee("general", "+4930123456", None).policy_version == "eu-2026.1"


def test_load_pack_keeps_its_meaning(tmp_path: Path) -> None:
    overrides = tmp_path / "local.toml"
    overrides.write_text('[quiet_hours]\nstart = "22:00"\n')
    assert load_pack("cn").policy_version == "cn-2026.1"
    assert load_pack("cn", overrides).quiet_start.hour == 22
    assert load_pack("us").policy_version == "us-2026.1"


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("local.toml", "[packs.mars.quiet_hours]\nstart = '20:00'\n", "packs.mars: no such"),
        ("local.toml", "[quiet_hours]\nstart = 'late'\n", "'quiet_hours.start' must be HH:MM"),
        ("local.toml", "[purposes.marketing]\nforbidden_contacts = ['adult']\n", "forbidden_con"),
        ("local.toml", "[recording]\nretention_class = 'forever'\n", "'forever' is not defined"),
    ],
)
def test_bad_overrides_name_the_key(tmp_path: Path, file: str, content: str, message: str) -> None:
    path = tmp_path / file
    path.write_text(content)
    with pytest.raises(PackError, match=message):
        PolicyBook.load(overrides_file=path)


def test_two_packs_claiming_a_country_is_an_error(packs: Path) -> None:
    text = (packs / "eu.toml").read_text()
    (packs / "eu.toml").write_text(text.replace('"AT", ', '"AT", "US", ', 1))
    with pytest.raises(PackError, match="country US is claimed"):
        PolicyBook.load(directory=packs)


def test_unknown_default_pack(packs: Path) -> None:
    with pytest.raises(PackError, match="no shipped jurisdiction pack named 'cn-finance'"):
        PolicyBook.load("cn-finance", directory=packs)


def test_the_book_says_whether_calls_are_geocoded(packs: Path) -> None:
    """The gate loads the geocoder at start when a pack has subdivisions (the US pack's
    states): on the first call it would cost most of the decision budget."""
    assert PolicyBook.load(directory=packs).geocodes
    for with_states in packs.glob("*.toml"):
        if "[subdivisions" in with_states.read_text():
            with_states.unlink()
    assert not PolicyBook.load(directory=packs).geocodes

"""Masking: every spelling of a number that phonenumbers finds in text is masked, nothing else.

Spellings are generated from the number with phonenumbers' own formats and the groupings people
type (``tests/number_scan.py``, shared with the chain scans), so a new format is one more line
there rather than one more special case in the masker.
"""

from __future__ import annotations

import pytest
from number_scan import spellings

from dialguard.numbers import mask, mask_text

NUMBER = "+8613900139032"
DIGITS = "13900139032"
OURS = "+861058001234"


@pytest.mark.parametrize("spelling", spellings(NUMBER))
@pytest.mark.parametrize(
    "template",
    ["{}", "call {} please", "请拨打{}谢谢", "opt-out via sms (ref {})", "tel:{}.", '"{}"'],
)
def test_every_spelling_in_any_text_is_masked(spelling: str, template: str) -> None:
    text = template.format(spelling)
    masked = mask_text(text)
    assert "9032" in masked and "****" in masked, masked
    digits = "".join(ch for ch in masked if ch.isdigit() or ch == "*")
    assert DIGITS not in digits and "00139" not in digits, masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T10:00:00.123456+00:00",
        "at 2026-11-25 10:00:00+00:00",
        "on 2026/11/25 10:00",
        "decision 0c3a7e13-5c2b-4d8e-9f3a-123456789012 allowed",
        "12345678-1234-1234-1234-123456789012",
        "sha256 " + "1234567890abcdef" * 4,
        "token 3fa2c1d04b9e7a10",
        "channel 1754470000.7",
        "call 1754470000.123 ended",
        "latency 0.12345678 s",
        "n:" + "7" * 10 + "ab" * 27,
        "13900139032abc",
    ],
)
def test_ids_hashes_times_and_channel_ids_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_our_own_numbers_may_stay_in_any_spelling() -> None:
    text = "from 010 5800 1234 (+861058001234) to 139-0013-9032"
    assert mask_text(text, keep={OURS}) == ("from 010 5800 1234 (+861058001234) to +86 139****9032")


def test_plain_runs_keep_their_old_masked_form() -> None:
    assert mask_text("callee 13800138000 and +8613800138000") == (
        "callee 138****8000 and +86 138****8000"
    )


def test_a_run_of_digits_that_is_no_valid_number_is_still_masked() -> None:
    assert mask_text("ref 12345678901") == "ref 123****8901"
    assert mask_text("dg-1764036000.7-8613900139032") == "dg-176****000.7-861****9032"


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+8613800138000", "+86 138****8000"),
        ("13800138000", "138****8000"),
        ("+861058001234", "+86 105****234"),
        ("1234567", "1****67"),
        ("+12125550123", "+1 212****123"),
        ("110", "110"),
    ],
)
def test_mask_shows_at_most_three_and_four_digits(number: str, masked: str) -> None:
    assert mask(number) == masked


@pytest.mark.parametrize("length", range(7, 16))
def test_mask_hides_at_least_four_digits_of_any_length(length: int) -> None:
    national = "123456789012345"[:length]
    shown = sum(ch.isdigit() for ch in mask(national))
    assert shown <= length - 4 and shown <= 7

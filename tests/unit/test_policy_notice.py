"""``[recording] notice``: which recorded calls must play the recording notice first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_policy_rules import CALLEE, WEDNESDAY_10, attempt, facts

from dialguard.policy.book import PolicyBook, load_pack
from dialguard.policy.engine import evaluate
from dialguard.policy.model import Verdict
from dialguard.policy.pack import PackError


def test_cn_requires_the_notice_on_a_recorded_call() -> None:
    pack = load_pack("cn")
    assert pack.recording_notice == "required"
    decision = evaluate(attempt(), facts(), WEDNESDAY_10, pack, "d-1")
    assert decision.verdict is Verdict.ALLOW and decision.record and decision.notice


def test_no_notice_without_a_recording_or_an_allow() -> None:
    pack = load_pack("cn")
    unrecorded = replace(pack, record_outbound=False)
    assert not evaluate(attempt(), facts(), WEDNESDAY_10, unrecorded, "d-1").notice
    denied = evaluate(attempt(), facts(consents=()), WEDNESDAY_10, pack, "d-1")
    assert denied.verdict is Verdict.DENY and not denied.notice


def test_us_has_no_notice_by_default() -> None:
    assert load_pack("us").recording_notice == "off"


def test_an_override_turns_it_off_per_pack(tmp_path: Path) -> None:
    overrides = tmp_path / "local.toml"
    overrides.write_text('[recording]\nnotice = "off"\n')
    book = PolicyBook.load(overrides_file=overrides)
    pack = book.for_callee("general", CALLEE, WEDNESDAY_10.date())
    assert pack.recording_notice == "off"
    assert pack.sources["recording.notice"].startswith("overrides")
    assert not evaluate(attempt(), facts(), WEDNESDAY_10, pack, "d-1").notice


def test_industry_overlays_keep_the_notice() -> None:
    pack = PolicyBook.load().for_callee("finance", CALLEE, WEDNESDAY_10.date())
    assert pack.recording_notice == "required"


def test_an_unknown_mode_names_the_key(tmp_path: Path) -> None:
    overrides = tmp_path / "local.toml"
    overrides.write_text('[recording]\nnotice = "sometimes"\n')
    with pytest.raises(PackError, match=r"recording\.notice"):
        PolicyBook.load(overrides_file=overrides)

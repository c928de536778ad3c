"""One definition of an emergency number: the pack's list, exactly as dialled (optionally behind a
prefix the pack names). Hostile spellings are ordinary calls that every rule checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from emergency_spellings import HOSTILE

from dialguard.numbers import try_normalize
from dialguard.policy.book import load_pack
from dialguard.policy.emergency import emergency_forms, is_emergency, regex_of
from dialguard.policy.engine import evaluate
from dialguard.policy.model import (
    CallAttempt,
    ConsentRecord,
    Facts,
    NumberType,
    RegisteredNumber,
    Verdict,
)
from dialguard.policy.pack import PackError, RulePack

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLER = "+861058001234"
# Night, inside the National Day holiday: quiet hours and the holiday object to any real call.
NIGHT_HOLIDAY = datetime(2026, 10, 3, 23, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("cn")


def _facts(callee: str) -> Facts:
    """What the gate would look up for the call: everything in order but the callee."""
    registration = RegisteredNumber(
        number=CALLER,
        tenant="acme",
        purposes=frozenset({"callback"}),
        inbound_enabled=True,
        outbound_enabled=True,
        number_type=NumberType.CALL_CENTRE,
        filing_ref=None,
        filed_on=date(2026, 1, 5),
        active=True,
    )
    normalized = try_normalize(callee, "CN")
    consent = ConsentRecord(
        1, normalized or callee, "acme", "callback", "t-1", "web", NIGHT_HOLIDAY, None, None
    )
    return Facts(
        caller=CALLER,
        callee=normalized,
        caller_registrations=(registration,),
        consents=(consent,),
    )


@pytest.mark.parametrize("dialled", HOSTILE, ids=repr)
def test_hostile_spellings_are_ordinary_calls_checked_by_every_rule(
    pack: RulePack, dialled: str
) -> None:
    assert not is_emergency(dialled, pack)
    call = CallAttempt(caller="01058001234", callee=dialled, tenant="acme")
    decision = evaluate(call, _facts(dialled), NIGHT_HOLIDAY, pack, "d-1")
    codes = [r.code for r in decision.reasons]
    assert decision.verdict is Verdict.DENY
    assert "emergency.bypass" not in codes
    # Not an emergency call: the time rules ran, as did the number check.
    assert {"callee.invalid", "time.quiet_hours", "time.holiday"} <= set(codes)


@pytest.mark.parametrize("dialled", sorted(load_pack("cn").emergency_numbers))
def test_the_packs_numbers_exactly_are_emergency_calls(pack: RulePack, dialled: str) -> None:
    decision = evaluate(
        CallAttempt(caller="anonymous", callee=dialled), _facts(dialled), NIGHT_HOLIDAY, pack, "d"
    )
    assert decision.verdict is Verdict.ALLOW
    assert [r.code for r in decision.reasons] == ["emergency.bypass"]


def test_a_prefix_the_pack_names_may_precede_the_number_and_nothing_else(
    pack: RulePack,
) -> None:
    prefixed = replace(pack, emergency_prefixes=frozenset({"0"}))
    assert is_emergency("0110", prefixed) and is_emergency("110", prefixed)
    for dialled in ("00110", "0 110", "+0110", "1100", "01100", "0", "9110"):
        assert not is_emergency(dialled, prefixed), dialled
    assert "0110" in emergency_forms(prefixed) and "110" in emergency_forms(prefixed)
    assert not is_emergency("0110", pack)


def test_packs_list_their_emergency_numbers() -> None:
    assert emergency_forms(load_pack("cn")) == ("110", "112", "119", "120", "122", "911")
    assert emergency_forms(load_pack("us")) == ("112", "911", "988")
    assert emergency_forms(load_pack("eu")) == ("112",)


@pytest.mark.parametrize(
    "table",
    ['numbers = ["+110"]', 'numbers = ["110#"]', "numbers = [110]", 'prefixes = ["9,"]'],
)
def test_a_pack_with_a_non_digit_emergency_entry_is_refused(tmp_path: Path, table: str) -> None:
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(f"[emergency]\n{table}\n", encoding="utf-8")
    with pytest.raises(PackError, match="emergency"):
        load_pack("cn", overrides)


def test_regex_of_matches_exactly_the_forms() -> None:
    assert regex_of(["911", "110"]) == "^(110|911)$"
    with pytest.raises(ValueError, match="digits"):
        regex_of(["1|1"])
    with pytest.raises(ValueError, match="digits"):
        regex_of([])

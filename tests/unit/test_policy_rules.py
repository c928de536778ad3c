"""Each rule of the China pack and its boundaries, through the pure engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialguard.numbers import time_zones
from dialguard.policy.book import load_pack
from dialguard.policy.engine import evaluate
from dialguard.policy.model import (
    CallAttempt,
    ConsentRecord,
    DncEntry,
    DncScope,
    Facts,
    NumberType,
    Presentation,
    RegisteredNumber,
    Verdict,
)
from dialguard.policy.pack import RulePack

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLER = "+861058001234"
CALLEE = "+8613800138000"
# A Wednesday that is an ordinary working day.
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("cn")


def registration(**changes: object) -> RegisteredNumber:
    base = RegisteredNumber(
        number=CALLER,
        tenant="acme",
        purposes=frozenset({"callback", "consultation", "marketing"}),
        inbound_enabled=True,
        outbound_enabled=True,
        number_type=NumberType.CALL_CENTRE,
        filing_ref="MIIT-2026-001",
        filed_on=date(2026, 1, 5),
        active=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def consent(**changes: object) -> ConsentRecord:
    base = ConsentRecord(
        consent_id=1,
        callee=CALLEE,
        tenant="acme",
        purpose="callback",
        evidence_ref="ticket-42",
        channel="web",
        given_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=None,
        revoked_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def attempt(**changes: object) -> CallAttempt:
    base = CallAttempt(caller=CALLER, callee=CALLEE, tenant="acme", purpose="callback")
    return replace(base, **changes)  # type: ignore[arg-type]


def facts(**changes: object) -> Facts:
    base = Facts(
        caller=CALLER,
        callee=CALLEE,
        caller_registrations=(registration(),),
        consents=(consent(),),
        callee_time_zones=("Asia/Shanghai",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def decide(
    pack: RulePack,
    at: datetime = WEDNESDAY_10,
    call: CallAttempt | None = None,
    known: Facts | None = None,
) -> tuple[Verdict, list[str]]:
    decision = evaluate(call or attempt(), known or facts(), at, pack, "d-1")
    return decision.verdict, [r.code for r in decision.reasons]


def test_compliant_call_is_allowed_with_consent_reference(pack: RulePack) -> None:
    decision = evaluate(attempt(), facts(), WEDNESDAY_10, pack, "d-1")
    assert decision.verdict is Verdict.ALLOW
    assert decision.reasons == ()
    assert decision.consent_ref == "ticket-42"
    assert decision.policy_version == "cn-2026.1"
    assert decision.record and decision.retention_class == "default"


@pytest.mark.parametrize(
    ("local", "verdict"),
    [
        ((20, 59), Verdict.ALLOW),
        ((21, 0), Verdict.DENY),
        ((8, 59), Verdict.DENY),
        ((9, 0), Verdict.ALLOW),
        ((0, 0), Verdict.DENY),
    ],
)
def test_quiet_hours_boundaries_in_callee_time(
    pack: RulePack, local: tuple[int, int], verdict: Verdict
) -> None:
    at = datetime(2026, 11, 25, *local, tzinfo=SHANGHAI)
    got, codes = decide(pack, at.astimezone(UTC))
    assert got is verdict
    assert codes == ([] if verdict is Verdict.ALLOW else ["time.quiet_hours"])


def test_quiet_hours_use_callee_zone_not_gate_clock(pack: RulePack) -> None:
    # 14:00 in Beijing is 01:00 in New York: the New York callee is in quiet hours.
    at = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
    ny = facts(callee="+12025550123", callee_time_zones=("America/New_York",))
    _, codes = decide(pack, at, attempt(callee="+12025550123"), ny)
    assert "time.quiet_hours" in codes


def test_multi_zone_number_must_be_outside_quiet_hours_everywhere(pack: RulePack) -> None:
    zones = time_zones("+79161234567")
    assert {"Europe/Bucharest", "Europe/Moscow", "Asia/Kamchatka"} <= set(zones)
    call = attempt(callee="+79161234567")
    multi = facts(callee="+79161234567", callee_time_zones=zones)
    moscow = ZoneInfo("Europe/Moscow")
    # 10:00 Moscow is 09:00 in Bucharest and 19:00 in Kamchatka: daytime everywhere.
    assert decide(pack, datetime(2026, 11, 25, 10, 0, tzinfo=moscow), call, multi)[1] == []
    # 09:30 Moscow is 08:30 in Bucharest; 14:00 Moscow is 23:00 in Kamchatka.
    for hour, minute in ((9, 30), (14, 0)):
        at = datetime(2026, 11, 25, hour, minute, tzinfo=moscow)
        assert decide(pack, at, call, multi)[1] == ["time.quiet_hours"]
        single = facts(callee="+79161234567", callee_time_zones=("Europe/Moscow",))
        assert decide(pack, at, call, single)[1] == []


@pytest.mark.parametrize(
    ("day", "blocked"),
    [
        (date(2026, 10, 1), True),  # National Day
        (date(2026, 10, 4), True),  # a Sunday inside the National Day period
        (date(2026, 10, 8), False),  # the first working day after it
        (date(2026, 10, 10), False),  # a Saturday make-up working day (调休)
        (date(2026, 9, 20), False),  # a Sunday make-up working day
        (date(2026, 11, 28), False),  # an ordinary Saturday is not a holiday
    ],
)
def test_holiday_periods(pack: RulePack, day: date, blocked: bool) -> None:
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)
    _, codes = decide(pack, at)
    assert ("time.holiday" in codes) is blocked
    assert codes == (["time.holiday"] if blocked else [])


def test_year_without_calendar_data_is_denied_and_says_so(pack: RulePack) -> None:
    at = datetime(2031, 3, 4, 10, 0, tzinfo=SHANGHAI)
    _, codes = decide(pack, at)
    assert codes == ["time.calendar_missing"]


def test_fourth_attempt_in_24h_is_denied(pack: RulePack) -> None:
    earlier = tuple(WEDNESDAY_10 - timedelta(hours=h) for h in (1, 2, 3))
    _, codes = decide(pack, known=facts(recent_attempts=earlier))
    assert codes == ["frequency.exceeded"]
    # The third within 24 h is fine, and an attempt 24 h and 1 s ago no longer counts.
    two = (*earlier[:2], WEDNESDAY_10 - timedelta(hours=24, seconds=1))
    assert decide(pack, known=facts(recent_attempts=two))[0] is Verdict.ALLOW


def test_one_attempt_per_ten_minutes(pack: RulePack) -> None:
    recent = (WEDNESDAY_10 - timedelta(minutes=9, seconds=59),)
    assert decide(pack, known=facts(recent_attempts=recent))[1] == ["frequency.exceeded"]
    older = (WEDNESDAY_10 - timedelta(minutes=10),)
    assert decide(pack, known=facts(recent_attempts=older))[0] is Verdict.ALLOW


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (None, "is missing"),
        (consent(expires_at=WEDNESDAY_10 - timedelta(seconds=1)), "has expired"),
        (consent(revoked_at=WEDNESDAY_10 - timedelta(days=1)), "was revoked"),
        (consent(purpose="consultation"), "is missing"),
        (consent(tenant="other"), "is missing"),
        (consent(given_at=WEDNESDAY_10 + timedelta(minutes=1)), "is valid only from"),
    ],
)
def test_consent_must_hold_for_callee_tenant_and_purpose(
    pack: RulePack, record: ConsentRecord | None, message: str
) -> None:
    known = facts(consents=() if record is None else (record,))
    decision = evaluate(attempt(), known, WEDNESDAY_10, pack, "d-1")
    assert [r.code for r in decision.reasons] == ["consent.missing"]
    assert message in decision.reasons[0].message
    assert decision.consent_ref is None


def test_consent_expiring_later_still_holds(pack: RulePack) -> None:
    later = consent(expires_at=WEDNESDAY_10 + timedelta(seconds=1))
    assert decide(pack, known=facts(consents=(later,)))[0] is Verdict.ALLOW


def test_caller_id_rules(pack: RulePack) -> None:
    assert decide(pack, known=facts(caller_registrations=()))[1] == ["callerid.unregistered"]
    other = registration(tenant="globex")
    assert decide(pack, known=facts(caller_registrations=(other,)))[1] == ["callerid.other_tenant"]
    inactive = registration(active=False)
    assert decide(pack, known=facts(caller_registrations=(inactive,)))[1] == [
        "callerid.unregistered"
    ]
    no_out = registration(outbound_enabled=False)
    assert decide(pack, known=facts(caller_registrations=(no_out,)))[1] == [
        "callerid.outbound_disabled"
    ]
    hidden = attempt(presentation=Presentation.RESTRICTED)
    assert decide(pack, call=hidden)[1] == ["callerid.hidden"]
    bad = attempt(caller="12")
    assert decide(pack, call=bad, known=facts(caller=None, caller_registrations=()))[1] == [
        "callerid.invalid"
    ]


def test_purpose_rules(pack: RulePack) -> None:
    only_callback = registration(purposes=frozenset({"callback"}))
    known = facts(
        caller_registrations=(only_callback,), consents=(consent(purpose="consultation"),)
    )
    assert decide(pack, call=attempt(purpose="consultation"), known=known)[1] == [
        "purpose.not_filed"
    ]
    marketing = attempt(purpose="marketing")
    with_consent = facts(consents=(consent(purpose="marketing"),))
    assert decide(pack, call=marketing, known=with_consent)[1] == ["purpose.forbidden"]
    carrier = registration(number_type=NumberType.CARRIER_MARKETING)
    allowed = facts(caller_registrations=(carrier,), consents=(consent(purpose="marketing"),))
    assert decide(pack, call=marketing, known=allowed)[0] is Verdict.ALLOW
    no_consent = facts(caller_registrations=(carrier,), consents=())
    assert decide(pack, call=marketing, known=no_consent)[1] == ["consent.missing"]
    assert "purpose.forbidden" in decide(pack, call=attempt(purpose="debt-collection"))[1]


def test_dnc_and_invalid_callee(pack: RulePack) -> None:
    entry = DncEntry(
        number=CALLEE,
        scope=DncScope.GLOBAL,
        tenant=None,
        campaign=None,
        source="callee",
        reason="asked not to be called",
        added_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=None,
        added_by="cli",
    )
    assert decide(pack, known=facts(dnc=(entry,)))[1] == ["callee.dnc"]
    assert decide(pack, call=attempt(callee="12"), known=facts(callee=None))[1][0] == (
        "callee.invalid"
    )


def test_every_failing_rule_contributes_a_reason(pack: RulePack) -> None:
    at = datetime(2026, 10, 3, 22, 0, tzinfo=SHANGHAI)
    known = facts(caller_registrations=(), consents=())
    hidden = attempt(presentation=Presentation.RESTRICTED)
    verdict, codes = decide(pack, at, hidden, known)
    assert verdict is Verdict.DENY
    assert codes == [
        "callerid.hidden",
        "callerid.unregistered",
        "time.quiet_hours",
        "time.holiday",
        "consent.missing",
    ]


@pytest.mark.parametrize("number", ["110", "119", "120", "122", "112", "911"])
def test_emergency_numbers_bypass_every_rule(pack: RulePack, number: str) -> None:
    night_holiday = datetime(2026, 10, 3, 23, 0, tzinfo=SHANGHAI)
    call = attempt(callee=number, presentation=Presentation.RESTRICTED)
    decision = evaluate(call, Facts(caller=None, callee=None), night_holiday, pack, "d-1")
    assert decision.verdict is Verdict.ALLOW
    assert [r.code for r in decision.reasons] == ["emergency.bypass"]


def test_naive_now_is_refused(pack: RulePack) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(attempt(), facts(), datetime(2026, 11, 25, 10, 0), pack, "d-1")

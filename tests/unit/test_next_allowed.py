"""``next_allowed_at``: the earliest instant a denied call would pass, for denials that time alone
lifts, through the pure engine with the China pack (quiet hours 21:00-09:00, 1 call per 10 min,
3 per 24 h, the statutory holiday calendar)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialguard.policy.book import load_pack
from dialguard.policy.engine import evaluate
from dialguard.policy.model import (
    CallAttempt,
    ConsentRecord,
    DncEntry,
    DncScope,
    Facts,
    NumberType,
    RegisteredNumber,
    Verdict,
)
from dialguard.policy.pack import RulePack

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLER = "+861058001234"
CALLEE = "+8613800138000"
WEDNESDAY = date(2026, 11, 25)  # an ordinary working day


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("cn")


def consent(given_at: datetime, **changes: object) -> ConsentRecord:
    base = ConsentRecord(1, CALLEE, "acme", "callback", "ticket-42", "web", given_at, None, None)
    return replace(base, **changes)  # type: ignore[arg-type]


def facts(**changes: object) -> Facts:
    base = Facts(
        caller=CALLER,
        callee=CALLEE,
        caller_registrations=(
            RegisteredNumber(
                CALLER,
                "acme",
                frozenset({"callback"}),
                True,
                True,
                NumberType.CALL_CENTRE,
                None,
                None,
                True,
            ),
        ),
        consents=(consent(datetime(2026, 1, 1, tzinfo=UTC)),),
        callee_time_zones=("Asia/Shanghai",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


CALL = CallAttempt(caller=CALLER, callee=CALLEE, tenant="acme", purpose="callback")


def next_allowed(pack: RulePack, now: datetime, known: Facts) -> datetime | None:
    """The engine's answer, checked against the engine itself: the call passes at that instant
    and not one second earlier (when that second is still after ``now``)."""
    decision = evaluate(CALL, known, now, pack, "d-1")
    assert decision.verdict is Verdict.DENY
    found = decision.next_allowed_at
    if found is not None:
        assert found.utcoffset() == timedelta(hours=8), found  # the callee's zone
        assert evaluate(CALL, known, found, pack, "d-2").verdict is Verdict.ALLOW
        before = found - timedelta(seconds=1)
        if before > now:
            assert evaluate(CALL, known, before, pack, "d-3").verdict is Verdict.DENY
    return found


def test_allowed_calls_carry_none(pack: RulePack) -> None:
    decision = evaluate(CALL, facts(), at(WEDNESDAY, 10), pack, "d-1")
    assert decision.verdict is Verdict.ALLOW and decision.next_allowed_at is None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(WEDNESDAY, 21), at(WEDNESDAY + timedelta(days=1), 9)),
        (at(WEDNESDAY, 23, 59, 59), at(WEDNESDAY + timedelta(days=1), 9)),
        (at(WEDNESDAY, 0), at(WEDNESDAY, 9)),
        (at(WEDNESDAY, 8, 59, 59), at(WEDNESDAY, 9)),
    ],
)
def test_quiet_hours_across_midnight_end_at_nine(
    pack: RulePack, now: datetime, expected: datetime
) -> None:
    assert next_allowed(pack, now, facts()) == expected


def test_a_utc_now_gets_an_answer_in_the_callees_zone(pack: RulePack) -> None:
    found = next_allowed(pack, datetime(2026, 11, 25, 14, 0, tzinfo=UTC), facts())  # 22:00 CST
    assert found is not None and found.isoformat() == "2026-11-26T09:00:00+08:00"


def test_frequency_window_ends_in_daytime(pack: RulePack) -> None:
    known = facts(recent_attempts=(at(WEDNESDAY, 10, 0),))
    assert next_allowed(pack, at(WEDNESDAY, 10, 5), known) == at(WEDNESDAY, 10, 10)


def test_frequency_window_ending_inside_quiet_hours_waits_for_their_end(pack: RulePack) -> None:
    known = facts(recent_attempts=(at(WEDNESDAY, 20, 55),))
    assert next_allowed(pack, at(WEDNESDAY, 20, 58), known) == at(WEDNESDAY + timedelta(days=1), 9)


def test_three_a_day_waits_for_the_oldest_to_leave_the_day(pack: RulePack) -> None:
    known = facts(
        recent_attempts=(at(WEDNESDAY, 14, 0), at(WEDNESDAY, 11, 0), at(WEDNESDAY, 10, 0))
    )
    # The 10:00 call leaves the 24 h window at 10:00 tomorrow.
    assert next_allowed(pack, at(WEDNESDAY, 15, 0), known) == at(WEDNESDAY + timedelta(days=1), 10)


def test_holiday_period_in_the_cn_calendar(pack: RulePack) -> None:
    # National Day 2026: 1-7 October; the 8th is a working day, from 09:00.
    assert next_allowed(pack, at(date(2026, 10, 3), 11), facts()) == at(date(2026, 10, 8), 9)
    # Spring Festival 2026: 15-23 February, after the make-up working day of the 14th.
    assert next_allowed(pack, at(date(2026, 2, 15), 10), facts()) == at(date(2026, 2, 24), 9)


def test_quiet_hours_ending_on_a_holiday_wait_for_the_period_to_end(pack: RulePack) -> None:
    assert next_allowed(pack, at(date(2026, 9, 30), 22), facts()) == at(date(2026, 10, 8), 9)


def test_consent_valid_from_a_later_instant(pack: RulePack) -> None:
    later = at(WEDNESDAY + timedelta(days=2), 15, 30)
    known = facts(consents=(consent(later),))
    decision = evaluate(CALL, known, at(WEDNESDAY, 10), pack, "d-1")
    assert [r.code for r in decision.reasons] == ["consent.missing"]
    assert "valid only from" in decision.reasons[0].message
    assert next_allowed(pack, at(WEDNESDAY, 10), known) == later


def test_consent_valid_from_inside_quiet_hours(pack: RulePack) -> None:
    known = facts(consents=(consent(at(WEDNESDAY, 22)),))
    assert next_allowed(pack, at(WEDNESDAY, 10), known) == at(WEDNESDAY + timedelta(days=1), 9)


def test_combined_frequency_quiet_hours_holiday_and_consent(pack: RulePack) -> None:
    known = facts(
        recent_attempts=(at(date(2026, 9, 30), 20, 50),),
        consents=(consent(at(date(2026, 10, 8), 11)),),
    )
    found = next_allowed(pack, at(date(2026, 9, 30), 20, 55), known)
    assert found == at(date(2026, 10, 8), 11)


@pytest.mark.parametrize(
    ("now", "known"),
    [
        # DNC: waiting does not help, whatever else objects.
        (
            at(WEDNESDAY, 22),
            facts(
                dnc=(
                    DncEntry(
                        CALLEE,
                        DncScope.TENANT,
                        "acme",
                        None,
                        "manual",
                        None,
                        datetime(2026, 1, 1, tzinfo=UTC),
                        None,
                        "ops",
                    ),
                )
            ),
        ),
        (at(WEDNESDAY, 22), facts(caller_registrations=())),  # unregistered caller ID
        (at(WEDNESDAY, 10), facts(consents=())),  # no consent at all
        # A consent given later that has expired by then never holds.
        (
            at(WEDNESDAY, 10),
            facts(
                consents=(consent(at(WEDNESDAY, 12), expires_at=at(WEDNESDAY, 12)),),
            ),
        ),
        # The consent expires while the quiet hours last.
        (
            at(WEDNESDAY, 22),
            facts(
                consents=(
                    consent(
                        datetime(2026, 1, 1, tzinfo=UTC),
                        expires_at=at(WEDNESDAY + timedelta(days=1), 8),
                    ),
                )
            ),
        ),
        # Quiet hours end in 2027, a year the calendar does not cover: import it, do not wait.
        (at(date(2026, 12, 31), 22), facts()),
    ],
    ids=["dnc", "unregistered", "no-consent", "consent-void", "consent-expires", "no-calendar"],
)
def test_denials_time_will_not_lift_carry_none(pack: RulePack, now: datetime, known: Facts) -> None:
    assert next_allowed(pack, now, known) is None

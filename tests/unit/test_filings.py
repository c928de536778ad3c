"""The filing lifecycle in the pure policy: which version is in force at the call's instant
(boundaries in Beijing time), the 10-working-day reporting rule across a holiday period with
its make-up Saturday, and the residency rule of the CN pack."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialguard.policy.book import load_pack
from dialguard.policy.engine import evaluate
from dialguard.policy.filings import (
    Change,
    FilingChange,
    Standing,
    in_force,
    is_working_day,
    overdue,
    report_deadline,
)
from dialguard.policy.model import (
    CallAttempt,
    ConsentRecord,
    Direction,
    Facts,
    NumberType,
    RegisteredNumber,
)
from dialguard.policy.pack import RulePack

BEIJING = ZoneInfo("Asia/Shanghai")
CALLER = "+8695555"
CALLEE = "+8613800138000"
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("cn")


def filing(**changes: object) -> RegisteredNumber:
    base = RegisteredNumber(
        number=CALLER,
        tenant="bank1",
        purposes=frozenset({"callback"}),
        inbound_enabled=True,
        outbound_enabled=True,
        number_type=NumberType.CALL_CENTRE,
        filing_ref="MIIT-95555",
        filed_on=date(2026, 1, 5),
        active=True,
        number_class="service-national",
        effective_from=datetime(2026, 1, 5, tzinfo=BEIJING),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def reasons(
    pack: RulePack, *versions: RegisteredNumber, at: datetime, **facts: object
) -> list[str]:
    consent = ConsentRecord(
        1,
        CALLEE,
        "bank1",
        "callback",
        "ticket",
        "web",
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        None,
    )
    known = Facts(
        caller=CALLER,
        callee=CALLEE,
        caller_registrations=versions,
        consents=(consent,),
        callee_time_zones=("Asia/Shanghai",),
        **facts,  # type: ignore[arg-type]
    )
    attempt = CallAttempt(caller="95555", callee=CALLEE, tenant="bank1")
    return [r.code for r in evaluate(attempt, known, at, pack, "d").reasons]


def test_effective_from_is_an_instant_and_its_boundary_is_exact(pack: RulePack) -> None:
    starts = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)  # 02:00 UTC
    later = filing(effective_from=starts)
    assert reasons(pack, later, at=starts - timedelta(microseconds=1)) == [
        "callerid.not_yet_effective"
    ]
    assert reasons(pack, later, at=starts) == []


def test_expiry_is_the_end_of_the_day_in_beijing(pack: RulePack) -> None:
    expiring = filing(expires_on=date(2026, 11, 25))
    # midnight in Beijing is 16:00 UTC the day before it
    last = datetime(2026, 11, 25, 15, 59, 59, 999999, tzinfo=UTC)
    assert in_force([expiring], "bank1", last).standing is Standing.IN_FORCE
    gone = in_force([expiring], "bank1", last + timedelta(microseconds=1))
    assert gone.standing is Standing.EXPIRED and gone.version == expiring
    assert reasons(pack, expiring, at=WEDNESDAY_10) == []
    assert reasons(pack, expiring, at=WEDNESDAY_10 + timedelta(days=1)) == [
        "callerid.filing_expired"
    ]
    # a renewal recorded as a new version takes over from its own instant
    renewed = filing(
        expires_on=date(2027, 11, 25), effective_from=datetime(2026, 11, 26, tzinfo=BEIJING)
    )
    assert reasons(pack, expiring, renewed, at=WEDNESDAY_10 + timedelta(days=1)) == []


def test_the_version_in_force_at_the_calls_instant_decides(pack: RulePack) -> None:
    """Outbound is withdrawn from 1 December: calls before still pass, calls after do not; a
    renewal with a later expiry takes over from its own instant."""
    first = filing(expires_on=date(2026, 11, 30))
    no_out = filing(outbound_enabled=False, effective_from=datetime(2026, 12, 1, tzinfo=BEIJING))
    assert reasons(pack, first, no_out, at=WEDNESDAY_10) == []
    december = datetime(2026, 12, 2, 10, 0, tzinfo=BEIJING)
    assert reasons(pack, first, no_out, at=december) == ["callerid.outbound_disabled"]
    marketing = filing(
        purposes=frozenset({"callback", "marketing"}),
        effective_from=datetime(2026, 11, 26, tzinfo=BEIJING),
    )
    assert reasons(pack, first, marketing, at=WEDNESDAY_10) == []
    found = in_force((first, marketing, no_out), "bank1", december)
    assert found.standing is Standing.IN_FORCE and found.version == no_out


def test_a_number_held_by_another_tenant_is_named(pack: RulePack) -> None:
    theirs = filing(tenant="bank2")
    assert reasons(pack, theirs, at=WEDNESDAY_10) == ["callerid.other_tenant"]
    assert reasons(pack, at=WEDNESDAY_10) == ["callerid.unregistered"]
    assert reasons(pack, filing(active=False), at=WEDNESDAY_10) == ["callerid.unregistered"]


def test_inbound_to_a_number_not_filed_for_inbound_is_refused(pack: RulePack) -> None:
    attempt = CallAttempt("13800138000", "95555", tenant="bank1", direction=Direction.INBOUND)
    ours = filing(inbound_enabled=False)
    facts = Facts(caller=CALLEE, callee=CALLER, callee_registrations=(ours,))
    decision = evaluate(attempt, facts, WEDNESDAY_10, pack, "d")
    assert not decision.allowed
    assert [r.code for r in decision.reasons] == ["callee.inbound_disabled"]
    # from the day inbound is filed, the same call is allowed
    filed_in = filing(effective_from=datetime(2026, 11, 26, tzinfo=BEIJING))
    facts = replace(facts, callee_registrations=(ours, filed_in))
    assert evaluate(attempt, facts, WEDNESDAY_10, pack, "d").reasons[0].code == (
        "callee.inbound_disabled"
    )
    assert evaluate(attempt, facts, WEDNESDAY_10 + timedelta(days=1), pack, "d").allowed


def test_cn_calls_keep_their_data_in_china(pack: RulePack) -> None:
    assert pack.data_region == "cn"
    ours = filing()
    assert reasons(pack, ours, at=WEDNESDAY_10, tenant_data_region="cn") == []
    assert reasons(pack, ours, at=WEDNESDAY_10, tenant_data_region="eu") == ["data.residency"]
    assert reasons(pack, ours, at=WEDNESDAY_10, decision_data_region="eu") == ["data.residency"]
    assert (
        reasons(pack, ours, at=WEDNESDAY_10, tenant_data_region="cn", decision_data_region="cn")
        == []
    )


def test_working_days_around_national_day_2026(pack: RulePack) -> None:
    calendar = pack.calendar
    assert not is_working_day(calendar, date(2026, 10, 1))  # National Day
    assert not is_working_day(calendar, date(2026, 9, 25))  # Mid-Autumn, a Friday
    assert is_working_day(calendar, date(2026, 10, 10))  # the make-up Saturday
    assert is_working_day(calendar, date(2026, 9, 20))  # the make-up Sunday
    assert not is_working_day(calendar, date(2026, 10, 11))  # an ordinary Sunday
    # Changed on Wednesday 23 September: Thu 24 (1), Mon 28-Wed 30 (2-4), Thu 8-Fri 9 Oct
    # (5-6), Saturday 10 Oct (7, make-up), Mon 12-Wed 14 (8-10).
    assert report_deadline(calendar, date(2026, 9, 23)) == date(2026, 10, 14)
    # an ordinary fortnight: ten working days after Monday 2 November is Monday 16 November
    assert report_deadline(calendar, date(2026, 11, 2)) == date(2026, 11, 16)


def test_overdue_counts_ten_working_days_from_the_change(pack: RulePack) -> None:
    changed = datetime(2026, 9, 23, 9, 0, tzinfo=BEIJING)

    def change(kind: Change, reported: date | None) -> FilingChange:
        terms = filing(effective_from=changed, filed_on=reported)
        return FilingChange(7, kind, terms, changed, "ops")

    calendar = pack.calendar
    on_time = change(Change.CHANGED, date(2026, 10, 14))
    late = change(Change.CHANGED, date(2026, 10, 15))
    pending = change(Change.CHANGED, None)
    first = change(Change.FILED, None)
    assert overdue([on_time, late, first], calendar, date(2026, 12, 1)) == (
        overdue([late], calendar, date(2026, 12, 1))
    )
    assert overdue([pending], calendar, date(2026, 10, 14)) == ()
    (found,) = overdue([pending], calendar, date(2026, 10, 15))
    assert (found.changed_on, found.deadline, found.reported_on) == (
        date(2026, 9, 23),
        date(2026, 10, 14),
        None,
    )
    # the change day is the Beijing day: 23:30 UTC on the 22nd is already the 23rd there
    early = replace(
        pending,
        terms=replace(pending.terms, effective_from=datetime(2026, 9, 22, 16, 30, tzinfo=UTC)),
    )
    assert overdue([early], calendar, date(2026, 10, 15))[0].changed_on == date(2026, 9, 23)

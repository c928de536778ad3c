"""Each shipped pack beyond the China default, rule by rule, through the pure engine: the pack
the book selects for the tenant's industry and the callee's number, then ``evaluate``.

Every case is one row: industry, callee, purpose, local time, what the facts change, and the
reason codes expected (empty: allowed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dialguard.numbers import time_zones
from dialguard.policy.book import PolicyBook
from dialguard.policy.engine import evaluate
from dialguard.policy.model import (
    CallAttempt,
    ConsentRecord,
    ContactFlags,
    Facts,
    NumberType,
    RegisteredNumber,
)

CALLER = "+861058001234"
CN = "+8613800138000"
NEW_YORK = "+12125550123"
FLORIDA = "+13055550123"
BERLIN = "+4930123456"
LONDON = "+442071234567"


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load()


def consent(purpose: str, channel: str = "web", **changes: object) -> ConsentRecord:
    base = ConsentRecord(
        consent_id=1,
        callee="",
        tenant="acme",
        purpose=purpose,
        evidence_ref=f"{purpose}-{channel}",
        channel=channel,
        given_at=datetime(2025, 1, 1, tzinfo=UTC),
        expires_at=None,
        revoked_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    industry: str
    callee: str
    purpose: str
    local: tuple[int, int, int, int, int]
    """Year, month, day, hour, minute in the callee's first time zone."""
    expect: list[str]
    consents: tuple[ConsentRecord, ...] | None = None
    """None: one web consent for the purpose."""
    number_type: NumberType = NumberType.CARRIER_MARKETING
    campaign: str | None = None
    facts: dict[str, object] = field(default_factory=dict)


def decide(book: PolicyBook, case: Case) -> tuple[str, list[str]]:
    zones = time_zones(case.callee)
    at = datetime(*case.local, tzinfo=ZoneInfo(zones[0]))
    registration = RegisteredNumber(
        number=CALLER,
        tenant="acme",
        purposes=frozenset({case.purpose}),
        inbound_enabled=True,
        outbound_enabled=True,
        number_type=case.number_type,
        filing_ref="F-1",
        filed_on=date(2025, 1, 1),
        active=True,
    )
    consents = (consent(case.purpose),) if case.consents is None else case.consents
    facts = Facts(
        caller=CALLER,
        callee=case.callee,
        caller_registrations=(registration,),
        consents=tuple(replace(c, callee=case.callee) for c in consents),
        callee_time_zones=zones,
        tenant_industry=case.industry,
    )
    facts = replace(facts, **case.facts)  # type: ignore[arg-type]
    attempt = CallAttempt(
        CALLER, case.callee, tenant="acme", purpose=case.purpose, campaign=case.campaign
    )
    pack = book.for_callee(case.industry, case.callee, at.date())
    decision = evaluate(attempt, facts, at, pack, "d-1")
    return decision.policy_version, [r.code for r in decision.reasons]


WEEKDAY = (2026, 11, 25, 10, 0)  # a Wednesday, an ordinary working day in China

FINANCE = {
    "marketing with consent but no SMS confirmation": Case(
        "finance", CN, "marketing", WEEKDAY, ["consent.sms_confirmation_missing"]
    ),
    "marketing with consent and an SMS confirmation": Case(
        "finance",
        CN,
        "marketing",
        WEEKDAY,
        [],
        (consent("marketing"), consent("marketing", "sms")),
    ),
    "a consent given by SMS is both": Case(
        "finance", CN, "marketing", WEEKDAY, [], (consent("marketing", "sms"),)
    ),
    "a revoked SMS confirmation no longer counts": Case(
        "finance",
        CN,
        "marketing",
        WEEKDAY,
        ["consent.sms_confirmation_missing"],
        (
            consent("marketing"),
            consent("marketing", "sms", revoked_at=datetime(2026, 1, 1, tzinfo=UTC)),
        ),
    ),
    "no consent at all: both reasons": Case(
        "finance",
        CN,
        "marketing",
        WEEKDAY,
        ["consent.missing", "consent.sms_confirmation_missing"],
        (),
    ),
    "callbacks need no SMS confirmation": Case("finance", CN, "callback", WEEKDAY, []),
    "a general tenant's marketing needs none": Case("general", CN, "marketing", WEEKDAY, []),
}

EDUCATION = {
    "marketing to a minor": Case(
        "education",
        CN,
        "marketing",
        WEEKDAY,
        ["callee.minor"],
        facts={"contact": ContactFlags(CN, minor=True)},
    ),
    "marketing to a minor's guardian": Case(
        "education",
        CN,
        "marketing",
        WEEKDAY,
        ["callee.minor"],
        facts={"contact": ContactFlags(CN, guardian=True)},
    ),
    "marketing to an adult without flags": Case(
        "education", CN, "marketing", WEEKDAY, [], facts={"contact": ContactFlags(CN)}
    ),
    "a callback to a guardian is not marketing": Case(
        "education",
        CN,
        "callback",
        WEEKDAY,
        [],
        facts={"contact": ContactFlags(CN, guardian=True)},
    ),
    "general tenants are not bound by it": Case(
        "general",
        CN,
        "marketing",
        WEEKDAY,
        [],
        facts={"contact": ContactFlags(CN, minor=True)},
    ),
    "student data with a web consent": Case(
        "education", CN, "student-data", WEEKDAY, ["consent.missing"], (consent("student-data"),)
    ),
    "student data with the guardian's written consent": Case(
        "education",
        CN,
        "student-data",
        WEEKDAY,
        [],
        (consent("student-data", "written"),),
    ),
}

HEALTHCARE = {
    "advertising from a marketing number with consent": Case(
        "healthcare", CN, "marketing", WEEKDAY, ["purpose.forbidden"]
    ),
    "a consented callback": Case("healthcare", CN, "callback", WEEKDAY, []),
}

US = {
    "07:59 New York": Case(
        "general", NEW_YORK, "callback", (2026, 7, 8, 7, 59), ["time.quiet_hours"]
    ),
    "08:00 New York": Case("general", NEW_YORK, "callback", (2026, 7, 8, 8, 0), []),
    "20:59 New York": Case("general", NEW_YORK, "callback", (2026, 7, 8, 20, 59), []),
    "21:00 New York": Case(
        "general", NEW_YORK, "callback", (2026, 7, 8, 21, 0), ["time.quiet_hours"]
    ),
    "20:00 Florida": Case(
        "general", FLORIDA, "callback", (2026, 7, 8, 20, 0), ["time.quiet_hours"]
    ),
    "19:59 Florida": Case("general", FLORIDA, "callback", (2026, 7, 8, 19, 59), []),
    "Independence Day is no federal calling holiday": Case(
        "general", NEW_YORK, "callback", (2026, 7, 4, 10, 0), []
    ),
    "no holiday calendar needed in 2031": Case(
        "general", NEW_YORK, "callback", (2031, 3, 4, 10, 0), []
    ),
    "telemarketing needs written consent": Case(
        "general", NEW_YORK, "marketing", (2026, 7, 8, 10, 0), ["consent.missing"]
    ),
    "telemarketing with written consent, from a call-centre number": Case(
        "general",
        NEW_YORK,
        "marketing",
        (2026, 7, 8, 10, 0),
        [],
        (consent("marketing", "written"),),
        NumberType.CALL_CENTRE,
    ),
    "no federal attempt cap": Case(
        "general",
        NEW_YORK,
        "callback",
        (2026, 7, 8, 10, 0),
        [],
        facts={"recent_attempts": tuple(datetime(2026, 7, 8, 14, m, tzinfo=UTC) for m in range(5))},
    ),
    "Florida: the fourth call in 24 hours": Case(
        "general",
        FLORIDA,
        "callback",
        (2026, 7, 8, 10, 0),
        ["frequency.exceeded"],
        facts={"recent_attempts": tuple(datetime(2026, 7, 8, 12, m, tzinfo=UTC) for m in range(3))},
    ),
    "a finance tenant calling the US gets the US rules": Case(
        "finance",
        NEW_YORK,
        "marketing",
        (2026, 7, 8, 10, 0),
        [],
        (consent("marketing", "written"),),
    ),
}

EU = {
    **{
        f"{purpose} without consent": Case(
            "general", BERLIN, purpose, (2026, 11, 25, 10, 0), ["consent.missing"], ()
        )
        for purpose in ("callback", "consultation", "marketing")
    },
    "marketing with consent from a call-centre number": Case(
        "general",
        BERLIN,
        "marketing",
        (2026, 11, 25, 10, 0),
        [],
        number_type=NumberType.CALL_CENTRE,
        facts={"tenant_data_region": "eu"},
    ),
    "a tenant whose data is stored in cn": Case(
        "general",
        BERLIN,
        "callback",
        (2026, 11, 25, 10, 0),
        ["data.residency"],
        facts={"tenant_data_region": "cn"},
    ),
    "21:00 Berlin": Case(
        "general", BERLIN, "callback", (2026, 11, 25, 21, 0), ["time.quiet_hours"]
    ),
    "Christmas is not blocked by the pack": Case(
        "general", BERLIN, "callback", (2026, 12, 25, 10, 0), []
    ),
}

CAMPAIGNS = {
    "approved script": Case(
        "general",
        CN,
        "callback",
        WEEKDAY,
        [],
        campaign="spring",
        facts={"campaign_script_approved": True},
    ),
    "script refused or never registered": Case(
        "general",
        CN,
        "callback",
        WEEKDAY,
        ["script.unapproved"],
        campaign="spring",
        facts={"campaign_script_approved": False},
    ),
    "approval state unknown": Case(
        "general", CN, "callback", WEEKDAY, ["script.unapproved"], campaign="spring"
    ),
    "same in the US": Case(
        "general",
        NEW_YORK,
        "callback",
        (2026, 7, 8, 10, 0),
        ["script.unapproved"],
        campaign="spring",
    ),
    "no campaign, no script needed": Case("general", CN, "callback", WEEKDAY, []),
}

ALL = {
    "cn-finance": FINANCE,
    "cn-education": EDUCATION,
    "cn-healthcare": HEALTHCARE,
    "us": US,
    "eu": EU,
    "campaigns": CAMPAIGNS,
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, id=f"{pack}: {name}")
        for pack, cases in ALL.items()
        for name, case in cases.items()
    ],
)
def test_pack_rules(book: PolicyBook, case: Case) -> None:
    assert decide(book, case)[1] == case.expect


@pytest.mark.parametrize(
    ("industry", "callee", "version", "retention"),
    [
        ("general", CN, "cn-2026.1", "default"),
        ("finance", CN, "cn-2026.1+cn-finance-2026.1", "finance"),
        ("education", CN, "cn-2026.1+cn-education-2026.1", "default"),
        ("healthcare", CN, "cn-2026.1+cn-healthcare-2026.1", "default"),
        ("general", LONDON, "cn-2026.1", "default"),  # no pack claims GB: the default
        ("general", None, "cn-2026.1", "default"),  # unknown callee: the default
        ("general", NEW_YORK, "us-2026.1", "us-tsr"),
        ("finance", FLORIDA, "us-2026.1/FL", "us-tsr"),
        ("healthcare", BERLIN, "eu-2026.1", "eu-default"),
    ],
)
def test_selection_names_every_layer(
    book: PolicyBook, industry: str, callee: str | None, version: str, retention: str
) -> None:
    pack = book.for_callee(industry, callee, date(2026, 6, 1))
    assert pack.policy_version == version
    assert pack.retention_class == retention
    assert pack.retention[retention].days in (30, 1826)


def test_retention_five_years_for_finance_and_us(book: PolicyBook) -> None:
    classes = book.default_pack.retention
    assert classes["finance"].days == classes["us-tsr"].days == 1826
    assert classes["default"].days == 30


def test_healthcare_data_is_sensitive_and_exported_to_dsr_only(book: PolicyBook) -> None:
    pack = book.for_callee("healthcare", CN, None)
    assert pack.sensitive_data and pack.export_roles == frozenset({"dsr"})
    assert not book.default_pack.sensitive_data


def test_phrase_packs_follow_the_industry(book: PolicyBook) -> None:
    assert book.phrase_packs("finance") == ("finance",)
    assert book.phrase_packs("education") == ("education",)
    assert book.phrase_packs("general") == ()


def test_us_number_without_known_zone_gets_the_overlap_of_every_us_zone(book: PolicyBook) -> None:
    zones: tuple[str, ...] = ()
    pack = book.for_callee("general", NEW_YORK, None)
    eastern = ZoneInfo("America/New_York")
    # July: 08:00 in Honolulu is 14:00 in New York; 21:00 in New York ends it everywhere.
    for hour, expect in (
        (13, ["time.quiet_hours"]),
        (14, []),
        (20, []),
        (21, ["time.quiet_hours"]),
    ):
        case = Case(
            "general",
            NEW_YORK,
            "callback",
            (2026, 7, 8, hour, 0),
            expect,
            facts={"callee_time_zones": zones},
        )
        assert decide(book, case)[1] == expect, hour
    assert len(pack.default_time_zones) > 5 and eastern.key in pack.default_time_zones


def test_sources_name_pack_version_and_file(book: PolicyBook) -> None:
    florida = book.for_callee("general", FLORIDA, None)
    assert florida.parameters["quiet_hours.start"] == "20:00"
    assert florida.sources["quiet_hours.start"] == "us 2026.1 (us.toml) subdivisions.FL"
    assert florida.sources["quiet_hours.end"] == "us 2026.1 (us.toml)"
    finance = book.for_callee("finance", CN, None)
    assert finance.sources["purposes.marketing.sms_confirmation"] == (
        "cn-finance 2026.1 (cn-finance.toml)"
    )
    assert finance.sources["purposes.marketing.number_types"] == "cn 2026.1 (cn.toml)"
    assert (
        "pack.name" not in finance.parameters and "subdivisions.FL.name" not in florida.parameters
    )

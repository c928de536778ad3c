from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dialguard.agi.attempt import attempt_from, presentation_of
from dialguard.agi.mset import MSet
from dialguard.agi.protocol import parse_header_block
from dialguard.agi.testing import header_block, mset_assignments, split_args
from dialguard.gate import variables
from dialguard.gate.verdict import GateVerdict, UnsafeValue
from dialguard.policy.model import (
    CallAttempt,
    Decision,
    Direction,
    Presentation,
    Reason,
    Verdict,
)

DECISION = Decision(
    decision_id="0b6f1a7e-3c1d-4f38-9a51-2b1c9d1f0e11",
    verdict=Verdict.ALLOW,
    reasons=(),
    policy_version="cn-1",
    decided_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
    attempt=CallAttempt(caller="01088886666", callee="13800138000"),
    caller="+861088886666",
    callee="+8613800138000",
    record=True,
)


def test_allow_with_recording_uses_asterisk_uniqueid() -> None:
    verdict = GateVerdict.from_decision(DECISION, "1754470000.7")
    assert mset_assignments(MSet(verdict).command()) == {
        variables.REASON: "",
        variables.DECISION_ID: DECISION.decision_id,
        variables.RECORDING: "dg-1754470000.7",
        variables.NEXT_ALLOWED: "",
        variables.NOTICE: "",
        variables.VERDICT: "ALLOW",
    }


@pytest.mark.parametrize("uniqueid", ["", "host-1754470000.7", "1754470000.7,x", "../1.2", "1.2\n"])
def test_recording_falls_back_to_decision_id(uniqueid: str) -> None:
    verdict = GateVerdict.from_decision(DECISION, uniqueid)
    assert verdict.recording == f"dg-{DECISION.decision_id}"


def test_no_recording_unless_allowed_and_asked() -> None:
    assert GateVerdict.from_decision(replace(DECISION, record=False), "1.2").recording == ""
    denied = replace(
        DECISION, verdict=Verdict.DENY, reasons=(Reason("time.quiet_hours", "21:00–09:00"),)
    )
    verdict = GateVerdict.from_decision(denied, "1.2")
    assert (verdict.recording, verdict.reason) == ("", "time.quiet_hours")
    assert mset_assignments(MSet(verdict).command())[variables.VERDICT] == "DENY"


def test_command_is_one_exec_mset_with_verdict_last() -> None:
    line = MSet(GateVerdict.deny("gate.timeout", "abc")).command()
    assert split_args(line) == [
        "EXEC",
        "MSet",
        "DIALGUARD_REASON=gate.timeout,DIALGUARD_DECISION_ID=abc,"
        "DIALGUARD_RECORDING=,DIALGUARD_NEXT_ALLOWED=,DIALGUARD_NOTICE=,DIALGUARD_VERDICT=DENY",
    ]


def test_a_denial_time_lifts_tells_the_dialplan_when() -> None:
    shanghai = timezone(timedelta(hours=8))
    denied = replace(
        DECISION,
        verdict=Verdict.DENY,
        reasons=(Reason("time.quiet_hours", "22:00"),),
        next_allowed_at=datetime(2025, 3, 4, 9, 0, tzinfo=shanghai),
    )
    line = MSet(GateVerdict.from_decision(denied, "1.2")).command()
    assert mset_assignments(line)[variables.NEXT_ALLOWED] == "2025-03-04T09:00:00+08:00"
    assert split_args(line)[2].endswith(
        ",DIALGUARD_NEXT_ALLOWED=2025-03-04T09:00:00+08:00,DIALGUARD_NOTICE=,DIALGUARD_VERDICT=DENY"
    )


@pytest.mark.parametrize(
    "bad", ["tomorrow", "2025-03-04T09:00:00", "2025-03-04T09:00:00+08:00,X=1", "+08:00"]
)
def test_next_allowed_must_be_an_instant_with_its_offset(bad: str) -> None:
    with pytest.raises(UnsafeValue, match="DIALGUARD_NEXT_ALLOWED"):
        GateVerdict(Verdict.DENY, "abc", "time.quiet_hours", "", bad)


def test_deny_generates_an_id() -> None:
    first, second = GateVerdict.deny("gate.error"), GateVerdict.deny("gate.error")
    assert first.decision_id and first.decision_id != second.decision_id


@pytest.mark.parametrize(
    "bad", ["a,b", 'a"b', "a\\b", "a b", "${EVIL}", "a=b", "a\nb", "é", "a)b", "a;b"]
)
def test_unsafe_values_are_refused(bad: str) -> None:
    with pytest.raises(UnsafeValue, match="DIALGUARD_REASON"):
        GateVerdict.deny(bad)
    with pytest.raises(UnsafeValue, match="DIALGUARD_DECISION_ID"):
        GateVerdict(Verdict.DENY, bad)
    with pytest.raises(UnsafeValue):
        GateVerdict.from_decision(replace(DECISION, decision_id=bad), "1.2")


def test_empty_decision_id_is_refused() -> None:
    with pytest.raises(UnsafeValue):
        GateVerdict(Verdict.ALLOW, "")


@pytest.mark.parametrize(
    ("pres", "callerid", "expected"),
    [
        (0, "01088886666", Presentation.ALLOWED),
        (1, "01088886666", Presentation.ALLOWED),
        (3, "01088886666", Presentation.ALLOWED),
        (32, "01088886666", Presentation.RESTRICTED),
        (35, "01088886666", Presentation.RESTRICTED),
        (67, "01088886666", Presentation.RESTRICTED),
        (0, "anonymous", Presentation.RESTRICTED),
        (0, "Restricted", Presentation.RESTRICTED),
        (0, "unknown", Presentation.RESTRICTED),
        (0, "", Presentation.RESTRICTED),
    ],
)
def test_presentation(pres: int, callerid: str, expected: Presentation) -> None:
    request = parse_header_block(header_block(callingpres=pres, callerid=callerid))
    assert presentation_of(request) is expected


def test_attempt_from_request() -> None:
    request = parse_header_block(header_block(uniqueid="1.2"))
    assert attempt_from(request, Direction.OUTBOUND, "13800138000") == CallAttempt(
        caller="01088886666",
        callee="13800138000",
        tenant="acme",
        purpose="callback",
        presentation=Presentation.ALLOWED,
        direction=Direction.OUTBOUND,
        call_id="1.2",
    )


def test_attempt_tenant_and_purpose_defaults() -> None:
    with_account = parse_header_block(header_block(args=("1",), accountcode="acct"))
    assert attempt_from(with_account, Direction.INBOUND, "1").tenant == "acct"
    bare = parse_header_block(header_block(args=("1",)))
    attempt = attempt_from(bare, Direction.INBOUND, "1")
    assert (attempt.tenant, attempt.purpose) == ("default", "callback")


def test_campaign_is_the_optional_fourth_argument() -> None:
    args = ("13800138000", "acme", "marketing", "spring-offer")
    request = parse_header_block(header_block(args=args))
    assert attempt_from(request, Direction.OUTBOUND, "13800138000").campaign == "spring-offer"
    empty = parse_header_block(header_block(args=(*args[:3], "")))
    assert attempt_from(empty, Direction.OUTBOUND, "13800138000").campaign is None


def test_a_required_notice_names_the_prompt_for_a_recorded_call_only() -> None:
    noticed = replace(DECISION, notice=True)
    line = MSet(GateVerdict.from_decision(noticed, "1754470000.7", "custom/notice")).command()
    assert mset_assignments(line)[variables.NOTICE] == "custom/notice"
    assert split_args(line)[2].endswith(",DIALGUARD_NOTICE=custom/notice,DIALGUARD_VERDICT=ALLOW")
    assert GateVerdict.from_decision(noticed, "1.2").notice == "beep"
    assert GateVerdict.from_decision(replace(noticed, record=False), "1.2").notice == ""
    assert GateVerdict.from_decision(replace(DECISION, notice=False), "1.2").notice == ""
    denied = replace(noticed, verdict=Verdict.DENY, reasons=(Reason("callee.dnc", "dnc"),))
    assert GateVerdict.from_decision(denied, "1.2").notice == ""


@pytest.mark.parametrize(
    "prompt", ["beep,x", "beep&x", "a b", '"x', "$(x)", "../..", "x/../y", "", "/"]
)
def test_a_notice_prompt_outside_sound_names_is_refused(prompt: str) -> None:
    with pytest.raises(UnsafeValue, match="DIALGUARD_NOTICE"):
        GateVerdict(Verdict.ALLOW, "d-1", notice=prompt or "/")


def test_build_routes_refuses_a_bad_notice_prompt() -> None:
    from dialguard.agi.routes import build_routes
    from dialguard.config import ConfigError

    with pytest.raises(ConfigError, match=r"agi\.notice_prompt"):
        build_routes(object(), 100, notice_prompt="beep,x")  # type: ignore[arg-type]
    assert set(build_routes(object(), 100, notice_prompt="custom/notice")) == {  # type: ignore[arg-type]
        "outbound",
        "inbound",
    }

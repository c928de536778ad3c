from __future__ import annotations

from pathlib import Path

import pytest

from dialguard.config import ConfigError
from dialguard.esl import commands as cmd
from dialguard.esl.channel import ChannelDataError, channel_from
from dialguard.esl.server import check_settings
from dialguard.esl.testing import ChannelData
from dialguard.policy.model import Direction, Presentation
from dialguard.settings.esl import EslSettings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "esl"
CHANNEL = ChannelData.load(FIXTURES / "uuid-dump.esl")
UUID = "0b3f6a1e-6c0a-4d9e-9a43-5b2f0c7d1e22"


def headers(channel: ChannelData) -> dict[str, str]:
    return {k: v.decode("utf-8", errors="replace") for k, v in channel.headers}


def test_the_opening_is_linger_then_getvar_uuid() -> None:
    assert cmd.OPENING == b"linger\n\ngetvar uuid\n\n"
    assert cmd.GETVAR_UUID == b"getvar uuid\n\n"


def test_the_verdict_commands_are_api_commands_on_our_channel() -> None:
    assert cmd.dump(UUID) == f"api uuid_dump {UUID}\n\n".encode()
    assert cmd.transfer(UUID, "+8613800138000", "dialguard_allowed") == (
        f"api uuid_transfer {UUID} +8613800138000 XML dialguard_allowed\n\n".encode()
    )
    assert cmd.kill(UUID, cmd.OUTGOING_CALL_BARRED) == (
        f"api uuid_kill {UUID} OUTGOING_CALL_BARRED\n\n".encode()
    )
    with pytest.raises(cmd.UnsafeArgument):
        cmd.dump(f"{UUID} x")
    with pytest.raises(cmd.UnsafeArgument):
        cmd.kill(UUID, "CALL_REJECTED x")


def test_the_verdict_variables_are_one_uuid_setvar_multi_with_the_verdict_last() -> None:
    frame = cmd.set_variables(
        UUID,
        (cmd.REASON, ""),
        (cmd.DECISION_ID, "d-1"),
        cmd.record_on_answer("$${recordings_dir}", "dg-d-1"),
        (cmd.VERDICT, cmd.ALLOW),
    )
    assert frame == (
        f"api uuid_setvar_multi {UUID} ".encode()
        + b"^^|dialguard_reason=|dialguard_decision_id=d-1"
        b"|execute_on_answer_dialguard=record_session $${recordings_dir}/dg-d-1.wav"
        b"|dialguard_verdict=ALLOW\n\n"
    )


def test_the_subscription_takes_our_leg_and_the_callee_leg_only() -> None:
    assert cmd.subscribe(UUID) == (
        f"filter Unique-ID {UUID}\n\n".encode(),
        f"filter Other-Leg-Unique-ID {UUID}\n\n".encode(),
        b"event plain CHANNEL_HANGUP_COMPLETE RECORD_STOP DTMF\n\n",
    )
    with pytest.raises(cmd.UnsafeArgument):
        cmd.subscribe(f"{UUID}\n\nevent plain ALL")


def test_the_notice_plays_on_the_callee_leg_before_the_bridge() -> None:
    frame = cmd.set_variables(UUID, *cmd.notice_confirm("tone_stream://%(500,0,1000)"))
    assert frame == (
        f"api uuid_setvar_multi {UUID} ".encode() + b"^^|group_confirm_key=exec"
        b"|group_confirm_file=playback tone_stream://%(500,0,1000)\n\n"
    )
    for sound in ("${system(id)}", "/tmp/a b.wav", "x|group_confirm_key=exec"):
        with pytest.raises(cmd.UnsafeArgument):
            cmd.notice_confirm(sound)
    with pytest.raises(cmd.UnsafeArgument):
        cmd.set_variables(UUID, (cmd.GROUP_CONFIRM_FILE, "system rm -rf /"))


def test_commands_for_the_callee_leg_name_it() -> None:
    leg = "5f0c2a4e-9d1b-4c7e-8a63-0b7f2d9e4c11"
    assert cmd.hangup(cmd.NORMAL_CLEARING, leg).startswith(f"sendmsg {leg}\n".encode())
    assert cmd.playback("tone_stream://%(500,0,440)", leg).startswith(f"sendmsg {leg}\n".encode())
    with pytest.raises(cmd.UnsafeArgument):
        cmd.hangup(cmd.NORMAL_CLEARING, "x y")


@pytest.mark.parametrize(
    "build",
    [
        lambda: cmd.set_variables(UUID, (cmd.REASON, "a\nb")),
        lambda: cmd.set_variables(UUID, (cmd.REASON, "a\rb")),
        lambda: cmd.set_variables(UUID, (cmd.REASON, "a\x00b")),
        lambda: cmd.set_variables(UUID, (cmd.REASON, "${system(id)}")),
        lambda: cmd.set_variables(UUID, ("Bad Name", "x")),
        lambda: cmd.set_variables("x\n\napi system id", (cmd.REASON, "x")),
        lambda: cmd.transfer(UUID, "138 XML public", "dialguard_allowed"),
        lambda: cmd.transfer(UUID, "${destination_number}", "dialguard_allowed"),
        lambda: cmd.transfer(UUID, "138", "dialguard_allowed public"),
        lambda: cmd.recording_path("/tmp/x y", "dg-1"),
        lambda: cmd.recording_path("${caller_id_name}", "dg-1"),
        lambda: cmd.recording_path("/tmp", "../etc/passwd"),
        lambda: cmd.hangup("CALL_REJECTED\nx: y"),
        lambda: cmd.set_variables(UUID, (cmd.REASON, "a|dialguard_verdict=ALLOW")),
        lambda: cmd.set_variables(UUID, (cmd.REASON, "a b")),
        lambda: cmd.set_variables(UUID, (cmd.RECORD_ON_ANSWER, "system /bin/sh")),
        lambda: cmd.set_variables(UUID, (cmd.RECORD_ON_ANSWER, "record_session /tmp/x|y")),
    ],
)
def test_unsafe_arguments_are_refused(build: object) -> None:
    with pytest.raises(cmd.UnsafeArgument):
        build()  # type: ignore[operator]


def test_channel_data_becomes_an_attempt() -> None:
    channel = channel_from(headers(CHANNEL))
    assert channel.uniqueid == "96454479-24e1-49fd-8748-afa8f293bcaa"
    assert not channel.answered
    attempt = channel.attempt
    assert (attempt.caller, attempt.callee) == ("01088886666", "13800138000")
    assert (attempt.tenant, attempt.purpose) == ("acme", "callback")
    assert attempt.presentation is Presentation.ALLOWED


def test_tenant_and_purpose_fall_back() -> None:
    channel = CHANNEL.with_(tenant=None, purpose=None, accountcode="acme")
    attempt = channel_from(headers(channel)).attempt
    assert (attempt.tenant, attempt.purpose) == ("acme", "callback")  # accountcode
    attempt = channel_from(headers(CHANNEL.with_(tenant=None, accountcode=None))).attempt
    assert attempt.tenant == "default"


def test_the_real_privacy_user_call_is_restricted() -> None:
    """Recorded from FreeSWITCH 1.11.1: ``Privacy: user`` shows up only as sip_Privacy."""
    real = ChannelData.load(FIXTURES / "uuid-dump-privacy-user.esl")
    assert real.get("variable_sip_Privacy") == "user"
    assert real.get("Caller-Privacy-Hide-Number") == "false"
    assert channel_from(headers(real)).attempt.presentation is Presentation.RESTRICTED


def test_effective_caller_id_is_what_the_callee_sees() -> None:
    channel = CHANNEL.with_(variable_effective_caller_id_number="02161234567")
    assert channel_from(headers(channel)).attempt.caller == "02161234567"


@pytest.mark.parametrize(
    "override",
    [
        {"hide_number": "true"},
        {"sip_privacy": "id"},
        {"sip_privacy": "user"},
        {"sip_privacy": "header"},
        {"sip_privacy": "header;user"},
        {"sip_privacy": "ID; critical"},
        {"sip_privacy": "session, id"},
        {"variable_sip_h_Privacy": "id"},
        {"variable_origination_privacy": "hide_name:hide_number"},
        {"caller": "anonymous"},
        {"caller": "0000000000"},
        {"caller": ""},
    ],
)
def test_hidden_numbers_are_restricted(override: dict[str, str]) -> None:
    attempt = channel_from(headers(CHANNEL.with_(**override))).attempt
    assert attempt.presentation is Presentation.RESTRICTED


@pytest.mark.parametrize(
    "override",
    [
        {"sip_privacy": "none"},
        {"sip_privacy": "session"},
        {"sip_privacy": "critical"},
        {"variable_sip_h_Privacy": "none"},
    ],
)
def test_privacy_that_hides_nothing_is_allowed(override: dict[str, str]) -> None:
    attempt = channel_from(headers(CHANNEL.with_(**override))).attempt
    assert attempt.presentation is Presentation.ALLOWED


def test_the_inbound_route_is_set_by_the_dialplan() -> None:
    assert channel_from(headers(CHANNEL)).attempt.direction is Direction.OUTBOUND
    inbound = channel_from(headers(CHANNEL.with_(route="inbound"))).attempt
    assert inbound.direction is Direction.INBOUND
    other = channel_from(headers(CHANNEL.with_(route="sideways"))).attempt
    assert other.direction is Direction.OUTBOUND


def test_answer_state_is_read() -> None:
    assert not channel_from(headers(CHANNEL.with_(**{"Answer-State": "ringing"}))).answered
    assert channel_from(headers(CHANNEL.with_(**{"Answer-State": "answered"}))).answered


@pytest.mark.parametrize("override", [{"uniqueid": None}, {"callee": None}, {"callee": "1 2"}])
def test_unusable_channel_data(override: dict[str, None]) -> None:
    with pytest.raises(ChannelDataError):
        channel_from(headers(CHANNEL.with_(**override)))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"recordings_dir": "/tmp/a b"}, "esl.recordings_dir"),
        ({"recordings_dir": "${caller_id_name}"}, "esl.recordings_dir"),
        ({"allowed_context": "x y"}, "esl.allowed_context"),
        ({"allowed_inbound_context": "x;y"}, "esl.allowed_inbound_context"),
        ({"budget_ms": 0}, "esl.budget_ms"),
        ({"port": 70000}, "esl.port"),
    ],
)
def test_bad_settings_name_the_key(change: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        check_settings(EslSettings(**change))  # type: ignore[arg-type]


def test_default_settings_are_usable() -> None:
    check_settings(EslSettings())
    check_settings(EslSettings(recordings_dir="$${recordings_dir}/dialguard"))

"""In the call on the ESL gate. The keypad opt-out: a DTMF event of the callee leg after an ALLOW
runs the shared opt-out, plays the confirmation to that leg only once it is stored, hangs it up.
The recording notice: the callee leg plays it before the bridge, and its playback event decides
the report beside the recording. And the channel's direction and STIR/SHAKEN verstat as the ESL
gate reads them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_esl_server import CHANNEL, UNIQUEID, FakeMaker, ListSink, _write_file

from dialguard.config import ConfigError
from dialguard.esl.channel import channel_from
from dialguard.esl.parser import CommandReply, EslParser, Event
from dialguard.esl.server import EslServer
from dialguard.esl.testing import (
    CALLEE_LEG,
    ChannelData,
    FakeFreeSwitch,
    FsSession,
    api_response,
    reply,
)
from dialguard.policy.model import VERSTAT_FAILED as FAILED
from dialguard.policy.model import VERSTAT_NONE as NONE
from dialguard.recording.notice import read_notice
from dialguard.settings.esl import EslSettings
from dialguard.storage.recording_records import Notice, NoticeStatus


@dataclass
class FakeOptOut:
    answer: str = "callee.optout"
    calls: list[str] = field(default_factory=list)

    async def __call__(self, decision_id: str) -> str:
        self.calls.append(decision_id)
        return self.answer


@pytest.fixture
async def servers() -> AsyncIterator[list[EslServer]]:
    started: list[EslServer] = []
    yield started
    for server in started:
        await server.stop()


async def _serve(
    servers: list[EslServer],
    maker: FakeMaker,
    optout: FakeOptOut | None = None,
    sink: ListSink | None = None,
    **settings: Any,
) -> tuple[EslServer, FakeFreeSwitch]:
    server = EslServer(EslSettings(port=0, **settings), maker, recordings=sink, optout=optout)
    await server.start()
    servers.append(server)
    return server, FakeFreeSwitch(server.port, CHANNEL)


async def _until_verdict_applied(session: FsSession) -> dict[str, str]:
    """Answer setup and verdict commands up to the transfer (or hangup); the call goes on."""
    await session.answer_setup()
    variables: dict[str, str] = {}
    while True:
        command = await session.read_command()
        assert command is not None
        first, _ = command
        if not first.startswith("api "):  # the notice's subscription
            await session.send(reply("+OK event listener enabled plain"))
            continue
        await session.send(api_response(b"+OK\n"))
        _, name, _, arg = first.split(" ", 3)  # api <command> <uuid> <arguments>
        if name == "uuid_setvar_multi":  # ^^|name=value|name=value
            for item in arg[3:].split(arg[2]):
                key, _, value = item.partition("=")
                variables[key] = value
        if name in ("uuid_transfer", "uuid_kill"):
            return variables


async def _next(session: FsSession) -> dict[str, str]:
    command = await session.read_command()
    assert command is not None
    await session.send(reply("+OK"))
    return command[1]


def _dtmf(digit: str) -> bytes:
    """The callee pressed ``digit``: a DTMF event of the leg our channel bridged to."""
    return CHANNEL.callee_event("DTMF", ("DTMF-Digit", digit), ("DTMF-Duration", "2000"))


def _own_dtmf(digit: str) -> bytes:
    """The caller (our own channel, the agent's side) pressed ``digit``."""
    return CHANNEL.event("DTMF", ("DTMF-Digit", digit), ("DTMF-Duration", "2000"))


async def test_the_key_opts_out_confirms_and_hangs_up(servers: list[EslServer]) -> None:
    optout = FakeOptOut()
    server, fs = await _serve(servers, FakeMaker(), optout)
    async with asyncio.timeout(10):
        session = await fs.connect()
        variables = await _until_verdict_applied(session)
        assert variables["dialguard_verdict"] == "ALLOW"
        await session.send(_own_dtmf("9"))  # the caller's own key: nothing
        await session.send(_dtmf("5"))  # another key: nothing
        await session.send(_dtmf("9"))
        await session.send(_dtmf("9"))  # pressed again: one opt-out
        played = await _next(session)
        assert session.record.commands[-1] == f"sendmsg {CALLEE_LEG}"  # to the callee
        assert (played["execute-app-name"], played["execute-app-arg"]) == (
            "playback",
            "tone_stream://%(500,0,440)",
        )
        hangup = await _next(session)
        assert session.record.commands[-1] == f"sendmsg {CALLEE_LEG}"
        assert (hangup["call-command"], hangup["hangup-cause"]) == ("hangup", "NORMAL_CLEARING")
        await session.end_call("NORMAL_CLEARING", answered=True)
        assert await session.read_command() is None
        await session.close()
        await server.wait_idle()
    assert optout.calls == [variables["dialguard_decision_id"]]
    assert not server.alerts


async def test_an_opt_out_not_stored_is_not_confirmed(servers: list[EslServer]) -> None:
    optout = FakeOptOut(answer="gate.error")
    server, fs = await _serve(servers, FakeMaker(), optout, optout_key="#")
    async with asyncio.timeout(10):
        session = await fs.connect()
        await _until_verdict_applied(session)
        await session.send(_dtmf("9"))  # not the configured key
        await session.send(_dtmf("#"))
        hangup = await _next(session)
        assert hangup.get("call-command") == "hangup"
        assert session.record.commands[-1] == f"sendmsg {CALLEE_LEG}"
        await session.end_call("NORMAL_CLEARING", answered=True)
        assert await session.read_command() is None
        await session.close()
        await server.wait_idle()
    assert len(optout.calls) == 1
    assert server.alerts["optout.not-stored"] == 1


async def test_no_opt_out_on_a_denied_call_an_inbound_one_or_with_the_key_off(
    servers: list[EslServer],
) -> None:
    optout = FakeOptOut()
    _, fs = await _serve(servers, FakeMaker(deny={"13800138000": "callee.dnc"}), optout)
    _, fs_off = await _serve(servers, FakeMaker(), optout, optout_key="")
    _, fs_in = await _serve(servers, FakeMaker(), optout)
    fs_in.channel = CHANNEL.with_(route="inbound")  # the leg that answers is our agent
    async with asyncio.timeout(10):
        for peer in (fs, fs_off, fs_in):
            session = await peer.connect()
            await _until_verdict_applied(session)
            await session.send(_dtmf("9"))
            await session.end_call("NORMAL_CLEARING", answered=True)
            assert await session.read_command() is None
            await session.close()
        for server in servers:
            await server.wait_idle()
    assert optout.calls == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("optout_key", "99"),
        ("optout_key", "a"),
        ("optout_confirm", "${system(rm)}"),
        ("notice_sound", "/tmp/notice.wav|x"),
        ("notice_sound", "${sounds_dir}/notice.wav"),
    ],
)
def test_bad_sound_and_key_settings_are_refused(key: str, value: str) -> None:
    settings: dict[str, Any] = {key: value}
    with pytest.raises(ConfigError, match=f"esl.{key}"):
        EslServer(EslSettings(port=0, **settings), FakeMaker())


@pytest.mark.parametrize(
    ("extra", "direction", "verstat"),
    [
        ({}, "outbound", None),
        (
            {
                "variable_dialguard_direction": "inbound",
                "variable_sip_verstat": "TN-Validation-Failed",
            },
            "inbound",
            FAILED,
        ),
        (
            {
                "variable_dialguard_direction": "inbound",
                "variable_dialguard_verstat": "No-TN-Validation",
            },
            "inbound",
            NONE,
        ),
        ({"variable_sip_verstat": "TN-Validation-Passed-A"}, "outbound", None),  # _detailed form
    ],
)
def test_direction_and_verstat_from_the_channel(
    extra: dict[str, str], direction: str, verstat: str | None
) -> None:
    headers = {k: v.decode() for k, v in CHANNEL.with_(**extra).headers}
    attempt = channel_from(headers).attempt
    assert (attempt.direction.value, attempt.verstat) == (direction, verstat)


async def _recorded_call(
    servers: list[EslServer], tmp_path: Path, channel: ChannelData, response: str
) -> tuple[dict[str, str], ListSink, EslServer]:
    """A recorded call whose pack requires the notice, through the fake FreeSWITCH (its callee
    leg's notice playback ends with ``response``), until the recording is handed over."""
    sink = ListSink()
    maker = FakeMaker(record=True, notice=True)
    server, fs = await _serve(servers, maker, sink=sink, recordings_dir=str(tmp_path))
    fs.write_recording = _write_file
    async with asyncio.timeout(10):
        session = await fs.connect(channel)
        session.notice_response = response
        record = await session.converse()
        await server.wait_idle()
    assert "event plain CHANNEL_EXECUTE_COMPLETE" in record.commands
    return record.variables, sink, server


async def test_the_callee_leg_plays_the_notice_and_the_report_says_played(
    servers: list[EslServer], tmp_path: Path
) -> None:
    variables, sink, server = await _recorded_call(servers, tmp_path, CHANNEL, "FILE PLAYED")
    assert variables["group_confirm_key"] == "exec"
    assert variables["group_confirm_file"] == "playback tone_stream://%(500,0,1000)"
    assert variables["execute_on_answer_dialguard"].startswith("record_session ")
    [(_, _, path, _, _)] = sink.calls
    assert read_notice(Path(path)) == Notice(NoticeStatus.PLAYED, "tone_stream://%(500,0,1000)")
    assert not server.alerts


async def test_a_notice_that_did_not_play_is_reported_missing(
    servers: list[EslServer], tmp_path: Path
) -> None:
    _, sink, server = await _recorded_call(servers, tmp_path, CHANNEL, "FILE NOT FOUND")
    [(_, _, path, _, _)] = sink.calls
    assert read_notice(Path(path)) == Notice(NoticeStatus.MISSING, "tone_stream://%(500,0,1000)")
    assert server.alerts["notice.missing"] == 1


async def test_an_answered_channel_is_recorded_from_the_bridge_after_the_notice(
    servers: list[EslServer], tmp_path: Path
) -> None:
    """Recording an answered channel at once would start before the callee heard the notice."""
    answered = CHANNEL.with_(**{"Answer-State": "answered"})
    variables, sink, _ = await _recorded_call(servers, tmp_path, answered, "FILE PLAYED")
    assert variables["bridge_pre_execute_aleg_app"] == "record_session"
    assert variables["bridge_pre_execute_aleg_data"].startswith(f"{tmp_path}/dg-")
    assert "execute_on_answer_dialguard" not in variables
    [(_, _, path, _, _)] = sink.calls
    assert read_notice(Path(path)) == Notice(NoticeStatus.PLAYED, "tone_stream://%(500,0,1000)")


async def test_no_notice_when_the_pack_requires_none(
    servers: list[EslServer], tmp_path: Path
) -> None:
    sink = ListSink()
    server, fs = await _serve(
        servers, FakeMaker(record=True), sink=sink, recordings_dir=str(tmp_path)
    )
    fs.write_recording = _write_file
    record = await fs.call()
    await server.wait_idle()
    assert "group_confirm_key" not in record.variables
    assert "event plain CHANNEL_EXECUTE_COMPLETE" not in record.commands
    [(_, _, path, _, _)] = sink.calls
    assert read_notice(Path(path)) is None


def test_the_fake_callee_leg_names_our_channel_as_its_other_leg() -> None:
    frame = CHANNEL.callee_event("DTMF")
    assert f"Other-Leg-Unique-ID: {UNIQUEID}".encode() in frame
    assert f"Unique-ID: {CALLEE_LEG}".encode() in frame


FIXTURES = Path(__file__).parent.parent / "fixtures" / "esl"
PLAYED = {"playback", "record_session"}
"""The applications whose end the transcript test follows (of the many the call runs)."""


def test_the_real_callee_leg_sends_what_the_gate_reads() -> None:
    """From the transcript of a real FreeSWITCH call (notice, then the callee's 9): with the
    two filters, the callee leg's events arrive naming our channel as their other leg, the
    notice's playback ends FILE PLAYED before our channel's recording starts, and the key is a
    DTMF event of that leg, as the fake peer plays them."""
    parser = EslParser()
    parser.feed((FIXTURES / "session-callee-keypad.esl").read_bytes())
    frames = list(parser.frames())
    getvar_uuid = frames[0]  # no reply to linger; then getvar's, the value itself
    assert isinstance(getvar_uuid, CommandReply)
    ours = getvar_uuid.reply_text
    events = [f for f in frames if isinstance(f, Event)]
    legs = [e for e in events if e.get("Unique-ID") != ours]
    assert legs and all(e.get("Other-Leg-Unique-ID") == ours for e in legs)
    steps = [
        (e.get("Unique-ID") == ours, e.name, e.get("Application") or e.get("DTMF-Digit"))
        for e in events
        if e.name != "CHANNEL_EXECUTE_COMPLETE" or e.get("Application") in PLAYED
    ]
    assert steps == [
        (False, "CHANNEL_EXECUTE_COMPLETE", "playback"),  # the notice, on the callee leg
        (True, "CHANNEL_EXECUTE_COMPLETE", "record_session"),  # then our recording
        (False, "DTMF", "9"),
        (False, "CHANNEL_EXECUTE_COMPLETE", "playback"),  # the confirmation, to the callee
        (False, "CHANNEL_HANGUP_COMPLETE", ""),
        (True, "RECORD_STOP", ""),
        (True, "CHANNEL_HANGUP_COMPLETE", ""),
    ]
    notice = next(e for e in legs if e.get("Application") == "playback")
    assert (notice.get("Application-Data"), notice.get("Application-Response")) == (
        "tone_stream://%(500,0,1000)",
        "FILE PLAYED",
    )
    commands = (FIXTURES / "session-callee-keypad.commands").read_text()
    assert f"sendmsg {legs[0].get('Unique-ID')}\ncall-command: hangup" in commands

"""In the call on the ESL gate. The keypad opt-out: a DTMF event on the socket's channel after an
ALLOW runs the shared opt-out, plays the confirmation only once it is stored, hangs up. And the
channel's direction and STIR/SHAKEN verstat as the ESL gate reads them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from test_esl_server import CHANNEL, FakeMaker

from dialguard.config import ConfigError
from dialguard.esl.channel import channel_from
from dialguard.esl.server import EslServer
from dialguard.esl.testing import FakeFreeSwitch, FsSession, reply
from dialguard.policy.model import VERSTAT_FAILED as FAILED
from dialguard.policy.model import VERSTAT_NONE as NONE
from dialguard.settings.esl import EslSettings


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
    servers: list[EslServer], maker: FakeMaker, optout: FakeOptOut, **settings: Any
) -> tuple[EslServer, FakeFreeSwitch]:
    server = EslServer(EslSettings(port=0, **settings), maker, optout=optout)
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
        _, headers = command
        await session.send(reply("+OK"))
        app, arg = headers.get("execute-app-name", ""), headers.get("execute-app-arg", "")
        if app == "multiset":  # ^^|name=value|name=value
            for item in arg[3:].split(arg[2]):
                name, _, value = item.partition("=")
                variables[name] = value
        if app == "transfer" or headers.get("call-command") == "hangup":
            return variables


async def _next(session: FsSession) -> dict[str, str]:
    command = await session.read_command()
    assert command is not None
    await session.send(reply("+OK"))
    return command[1]


def _dtmf(digit: str) -> bytes:
    return CHANNEL.event("DTMF", ("DTMF-Digit", digit), ("DTMF-Duration", "2000"))


async def test_the_key_opts_out_confirms_and_hangs_up(servers: list[EslServer]) -> None:
    optout = FakeOptOut()
    server, fs = await _serve(servers, FakeMaker(), optout)
    async with asyncio.timeout(10):
        session = await fs.connect()
        variables = await _until_verdict_applied(session)
        assert variables["dialguard_verdict"] == "ALLOW"
        await session.send(_dtmf("5"))  # another key: nothing
        await session.send(_dtmf("9"))
        await session.send(_dtmf("9"))  # pressed again: one opt-out
        played = await _next(session)
        assert (played["execute-app-name"], played["execute-app-arg"]) == (
            "playback",
            "tone_stream://%(500,0,440)",
        )
        hangup = await _next(session)
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
        await session.end_call("NORMAL_CLEARING", answered=True)
        assert await session.read_command() is None
        await session.close()
        await server.wait_idle()
    assert len(optout.calls) == 1
    assert server.alerts["optout.not-stored"] == 1


async def test_no_opt_out_on_a_denied_call_or_with_the_key_off(servers: list[EslServer]) -> None:
    optout = FakeOptOut()
    _, fs = await _serve(servers, FakeMaker(deny={"13800138000": "callee.dnc"}), optout)
    _, fs_off = await _serve(servers, FakeMaker(), optout, optout_key="")
    async with asyncio.timeout(10):
        for peer in (fs, fs_off):
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
    [("optout_key", "99"), ("optout_key", "a"), ("optout_confirm", "${system(rm)}")],
)
def test_bad_optout_settings_are_refused(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"esl.{key}"):
        EslServer(EslSettings(port=0, **{key: value}), FakeMaker())


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

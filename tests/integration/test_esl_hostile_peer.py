"""ESL peers that misbehave after the verdict: one that goes quiet after a DENY, one that opens
more sockets than ``esl.max_connections_per_peer``. Every wait is on the socket itself, bounded
by ``asyncio.timeout``; none sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dialguard.config import load_settings
from dialguard.esl.server import EslServer, check_settings
from dialguard.esl.testing import ChannelData, FakeFreeSwitch, FsSession
from dialguard.logs import MaskingFormatter
from dialguard.policy.model import CallAttempt, Decision, Reason, Verdict
from dialguard.settings.errors import ConfigError
from dialguard.settings.esl import EslSettings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "esl"
CHANNEL = ChannelData.load(FIXTURES / "uuid-dump.esl")
T0 = datetime(2025, 8, 6, 8, 46, 52, tzinfo=UTC)
LINGER_MS = 300
SLACK_S = 2.0
"""Closing takes a few event-loop turns after the bound; a loaded machine gets this much more."""


@dataclass
class Maker:
    deny: str | None = None
    record: bool = False

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        return None

    async def decide(self, attempt: CallAttempt) -> Decision:
        return Decision(
            decision_id=str(uuid.uuid4()),
            verdict=Verdict.DENY if self.deny else Verdict.ALLOW,
            reasons=(Reason(self.deny, "denied by the test"),) if self.deny else (),
            policy_version="test-1",
            decided_at=T0,
            attempt=attempt,
            caller=None,
            callee=None,
            record=self.record and not self.deny,
        )


Start = Callable[..., Awaitable[tuple[EslServer, FakeFreeSwitch]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    servers: list[EslServer] = []

    async def run(
        maker: Any, sink: Any = None, **settings: Any
    ) -> tuple[EslServer, FakeFreeSwitch]:
        server = EslServer(EslSettings(port=0, **settings), maker, sink)
        await server.start()
        servers.append(server)
        return server, FakeFreeSwitch(server.port, CHANNEL)

    yield run
    for server in servers:
        await server.stop()


async def test_a_peer_quiet_after_a_deny_is_closed_within_the_linger_timeout(
    start: Start,
) -> None:
    server, fs = await start(Maker(deny="dnc.global"), linger_timeout_ms=LINGER_MS)
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(LINGER_MS / 1000 + SLACK_S):
        session = await fs.connect()
        session.quiet = True  # answers the hangup, then says nothing and keeps its socket
        await session.answer()
        while await session.answer():
            if session.record.hangup_cause is not None:
                break
        sent_hangup = loop.time()
        assert await session.read_command() is None  # dialguard closed its side
        waited = loop.time() - sent_hangup
        await session.close()
    assert session.record.variables["dialguard_verdict"] == "DENY"
    assert session.record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert waited >= LINGER_MS / 1000 * 0.9
    await server.wait_idle()
    assert server.alerts["event.no-hangup-complete"] == 1
    assert server.connections == {}


async def _held(fs: FakeFreeSwitch) -> FsSession:
    """A socket the server counts: its first command has been read, nothing answered yet."""
    session = await fs.connect()
    assert await session.read_command() == ("linger", {})
    return session


async def _finish(session: FsSession) -> str:
    record = await session.converse()
    return record.variables["dialguard_verdict"]


async def test_the_socket_over_the_per_peer_limit_is_refused_at_once(start: Start) -> None:
    server, fs = await start(Maker(), max_connections_per_peer=3)
    async with asyncio.timeout(SLACK_S):  # well under command_timeout_ms: not a timeout
        held = [await _held(fs) for _ in range(3)]
        assert server.connections == {"127.0.0.1": 3}
        extra = await fs.connect()
        assert await extra.read_command() is None
        await extra.close()
    assert server.alerts["connection.peer-limit"] == 1
    async with asyncio.timeout(10):
        assert await asyncio.gather(*(_finish(s) for s in held)) == ["ALLOW"] * 3
        await server.wait_idle()
        assert server.connections == {}
        assert (await fs.call()).variables["dialguard_verdict"] == "ALLOW"


async def test_concurrent_connects_never_exceed_the_limit(start: Start) -> None:
    server, fs = await start(Maker(), max_connections_per_peer=5)

    async def attempt() -> FsSession | None:
        session = await fs.connect()
        if await session.read_command() is None:
            await session.close()
            return None
        return session

    async with asyncio.timeout(10):
        results = await asyncio.gather(*(attempt() for _ in range(40)))
        held = [s for s in results if s is not None]
        assert len(held) == 5
        assert server.connections == {"127.0.0.1": 5}
        assert server.alerts["connection.peer-limit"] == 35
        assert await asyncio.gather(*(_finish(s) for s in held)) == ["ALLOW"] * 5
        await server.wait_idle()
    assert server.connections == {}


async def test_refusals_are_logged_once_per_burst(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server, fs = await start(Maker(), max_connections_per_peer=2)

    async def burst(refused: int) -> None:
        held = [await _held(fs) for _ in range(2)]
        for _ in range(refused):
            extra = await fs.connect()
            assert await extra.read_command() is None
            await extra.close()
        assert await asyncio.gather(*(_finish(s) for s in held)) == ["ALLOW"] * 2
        await server.wait_idle()

    with caplog.at_level(logging.INFO, logger="dialguard.esl"):
        async with asyncio.timeout(10):
            await burst(refused=5)
            await burst(refused=2)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "peer holds esl.max_connections_per_peer sockets: refusing more"
    ] * 2
    ends = [r for r in caplog.records if r.getMessage().startswith("peer back under")]
    assert [r.__dict__["fields"]["refused"] for r in ends] == [5, 2]
    assert server.alerts["connection.peer-limit"] == 7


@dataclass
class ListSink:
    paths: list[str] = field(default_factory=list)

    async def recording_finished(
        self,
        decision_id: str,
        uniqueid: str,
        path: str,
        started: datetime | None,
        ended: datetime | None,
    ) -> None:
        self.paths.append(path)


def _outside(recorded: Path, secret: Path) -> str:
    secret.rename(secret.with_name(recorded.name))  # the name the gate expects, elsewhere
    return str(secret.with_name(recorded.name))


def _dot_dot(recorded: Path, secret: Path) -> str:
    target = _outside(recorded, secret)
    return f"{recorded.parent}/../{Path(target).parent.name}/{recorded.name}"


def _symlink(recorded: Path, secret: Path) -> str:
    recorded.symlink_to(secret)
    return str(recorded)


def _fifo(recorded: Path, secret: Path) -> str:
    os.mkfifo(recorded)
    return str(recorded)


HOSTILE = {"outside": _outside, "dot-dot": _dot_dot, "symlink": _symlink, "fifo": _fifo}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_record_stop_naming_a_file_it_may_not_take_leaves_it_alone(
    start: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    secret = tmp_path / "13912345678" / "secret"
    secret.parent.mkdir()
    secret.write_bytes(b"13912345678 is my number")
    sink = ListSink()
    server, fs = await start(Maker(record=True), sink=sink, recordings_dir=str(recordings))
    named: list[str] = []

    async with asyncio.timeout(10):
        session = await fs.connect()

        def hostile(recorded: str) -> str:
            named.append(HOSTILE[case](Path(recorded), secret))
            return named[0]

        session.record_file_path = hostile
        with caplog.at_level(logging.WARNING, logger="dialguard.esl"):
            await session.answer()
            record = await session.converse()
            await server.wait_idle()
    assert record.variables["dialguard_verdict"] == "ALLOW"
    assert sink.paths == []
    left = [p for p in (secret, *secret.parent.iterdir(), *recordings.iterdir()) if p.exists()]
    assert left, "the file RECORD_STOP named was removed"
    assert all(p.read_bytes() == b"13912345678 is my number" for p in left if p.is_file())
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "RECORD_STOP names a file the gate does not take; left where it is"
    ]
    assert warnings[0].__dict__["fields"]["path"] == named[0]
    for as_json in (True, False):
        line = MaskingFormatter(as_json).format(warnings[0])
        assert "13912345678" not in line
        assert ("139****5678" in line) is ("13912345678" in named[0])


async def test_record_stop_naming_its_own_file_is_handed_over(start: Start, tmp_path: Path) -> None:
    sink = ListSink()
    _, fs = await start(Maker(record=True), sink=sink, recordings_dir=str(tmp_path))
    fs.write_recording = _write_wav
    record = await fs.call()
    name = record.variables["dialguard_recording"]
    assert sink.paths == [f"{tmp_path}/{name}.wav"]


def _write_wav(path: Path) -> None:
    path.write_bytes(b"RIFF")


def test_the_per_peer_limit_is_a_setting_with_env_override(tmp_path: Path) -> None:
    config = tmp_path / "dialguard.toml"
    config.write_text("[esl]\nmax_connections_per_peer = 3\n", encoding="utf-8")
    assert load_settings(config, environ={}).esl.max_connections_per_peer == 3
    env = {"DIALGUARD_ESL_MAX_CONNECTIONS_PER_PEER": "7"}
    assert load_settings(config, environ=env).esl.max_connections_per_peer == 7
    assert EslSettings().max_connections_per_peer == 1000
    with pytest.raises(ConfigError, match=r"^esl\.max_connections_per_peer: must be positive$"):
        check_settings(EslSettings(max_connections_per_peer=0))

"""The ESL outbound-socket gate against a FreeSWITCH peer that speaks the protocol frame by frame.

Every test binds port 0 and synchronises on events (a decision started, the server idle); none
sleeps to wait.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dialguard.esl import commands as cmd
from dialguard.esl.server import EslServer
from dialguard.esl.testing import (
    ANSWERED_US,
    HANGUP_US,
    ChannelData,
    FakeFreeSwitch,
    event_frame,
)
from dialguard.policy.model import (
    CallAttempt,
    Decision,
    Direction,
    Presentation,
    Reason,
    Verdict,
)
from dialguard.settings.esl import EslSettings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "esl"
SUBSCRIBE = cmd.SUBSCRIBE.decode().strip()
CHANNEL = ChannelData.load(FIXTURES / "uuid-dump.esl")
UNIQUEID = CHANNEL.get("Unique-ID")
SETUP = [
    "linger",
    "getvar uuid",
    f"api uuid_dump {UNIQUEID}",
    f"filter Unique-ID {UNIQUEID}",
    f"filter Other-Leg-Unique-ID {UNIQUEID}",
    SUBSCRIBE,
]
"""What the gate sends before the verdict: never ``connect``; the channel data; our channel's
and the callee leg's events only."""
VERDICT_COMMANDS = ("api uuid_setvar_multi ", "api uuid_transfer ", "api uuid_kill ")
T0 = datetime(2025, 8, 6, 8, 46, 52, tzinfo=UTC)


@dataclass
class FakeMaker:
    """Allows unless ``deny`` names the callee's reason; optionally held until ``release``."""

    deny: dict[str, str] = field(default_factory=dict)
    record: bool = False
    notice: bool = False
    """A recorded call's pack requires the recording notice."""
    hold: bool = False
    attempts: list[CallAttempt] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    failure_recorded: asyncio.Event = field(default_factory=asyncio.Event)

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        self.failures.append((decision_id, reason))
        self.failure_recorded.set()

    async def decide(self, attempt: CallAttempt) -> Decision:
        self.attempts.append(attempt)
        self.started.set()
        if self.hold:
            await self.release.wait()
        reason = self.deny.get(attempt.callee)
        return Decision(
            decision_id=str(uuid.uuid4()),
            verdict=Verdict.DENY if reason else Verdict.ALLOW,
            reasons=(Reason(reason, "denied by the test"),) if reason else (),
            policy_version="test-1",
            decided_at=T0,
            attempt=attempt,
            caller=None,
            callee=None,
            record=self.record and not reason,
            notice=self.notice and self.record and not reason,
        )


def _write_file(path: Path) -> None:
    path.write_bytes(b"RIFF")


@dataclass
class ListSink:
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def recording_finished(
        self,
        decision_id: str,
        uniqueid: str,
        path: str,
        started: datetime | None,
        ended: datetime | None,
    ) -> None:
        self.calls.append((decision_id, uniqueid, path, started, ended))


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


async def test_allow_sets_the_verdict_and_transfers(start: Start) -> None:
    maker = FakeMaker()
    server, fs = await start(maker)
    record = await fs.call()
    assert record.commands[:6] == SETUP
    assert record.variables["dialguard_verdict"] == "ALLOW"
    assert record.variables["dialguard_reason"] == ""
    assert uuid.UUID(record.variables["dialguard_decision_id"])
    assert [name for name, _ in record.apps] == ["uuid_setvar_multi", "uuid_transfer"]
    assert record.apps[-1] == ("uuid_transfer", "13800138000 XML dialguard_allowed")
    assert record.hangup_cause is None
    assert maker.attempts == [
        CallAttempt(
            caller="01088886666",
            callee="13800138000",
            tenant="acme",
            purpose="callback",
            presentation=Presentation.ALLOWED,
            call_id=UNIQUEID,
        )
    ]
    await server.wait_idle()
    assert not server.alerts


async def test_each_step_of_the_conversation_is_timed_once_in_order() -> None:
    """Where a call's wait goes (``GET /metrics``): the steps arrive in the order they happen,
    each timed from the accepted connection; the held decision shows in ``decided``."""
    steps: list[tuple[str, float]] = []
    maker = FakeMaker(hold=True)
    server = EslServer(EslSettings(port=0), maker, timing=lambda *step: steps.append(step))
    await server.start()
    try:
        call = asyncio.create_task(FakeFreeSwitch(server.port, CHANNEL).call())
        await maker.started.wait()
        assert [phase for phase, _ in steps] == ["uuid", "dump"]
        held = steps[-1][1]
        await asyncio.sleep(0.05)
        maker.release.set()
        record = await call
        await server.wait_idle()
    finally:
        await server.stop()
    assert record.variables["dialguard_verdict"] == "ALLOW"
    assert [phase for phase, _ in steps] == ["uuid", "dump", "decided", "sent", "acted"]
    times = [seconds for _, seconds in steps]
    assert times == sorted(times)
    assert times[2] - held >= 0.05


@pytest.mark.parametrize(
    "reason", ["dnc.global", "time.quiet_hours", "consent.missing", "caller.not_registered"]
)
async def test_each_deny_reason_is_carried_and_the_call_rejected(start: Start, reason: str) -> None:
    _, fs = await start(FakeMaker(deny={"13800138000": reason}))
    record = await fs.call()
    assert record.variables["dialguard_verdict"] == "DENY"
    assert record.variables["dialguard_reason"] == reason
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert [app for app, _ in record.apps] == ["uuid_setvar_multi", "uuid_kill"]
    assert record.raw[-1] == cmd.kill(UNIQUEID, "OUTGOING_CALL_BARRED")


async def test_recording_in_a_freeswitch_variable_dir_is_started_but_not_taken(
    start: Start,
) -> None:
    """``$${recordings_dir}`` is FreeSWITCH's to expand: the gate cannot check the file."""
    sink = ListSink()
    _, fs = await start(FakeMaker(record=True), sink)
    record = await fs.call()
    name = f"dg-{record.variables['dialguard_decision_id']}"
    assert record.variables["dialguard_recording"] == name
    assert record.variables["execute_on_answer_dialguard"] == (
        f"record_session $${{recordings_dir}}/{name}.wav"
    )
    assert [app for app, _ in record.apps] == ["uuid_setvar_multi", "uuid_transfer"]
    assert sink.calls == []


async def test_recording_is_started_with_our_name_and_handed_to_the_sink(
    start: Start, tmp_path: Path
) -> None:
    sink = ListSink()
    _, fs = await start(FakeMaker(record=True), sink, recordings_dir=str(tmp_path))
    fs.write_recording = _write_file
    record = await fs.call()
    decision_id = record.variables["dialguard_decision_id"]
    name = f"dg-{decision_id}"
    assert record.variables["dialguard_recording"] == name
    # Started when the bridge answers, not before: no early media, no ringing in the file.
    assert record.variables["execute_on_answer_dialguard"] == (
        f"record_session {tmp_path}/{name}.wav"
    )
    assert [app for app, _ in record.apps] == ["uuid_setvar_multi", "uuid_transfer"]
    assert sink.calls == [
        (
            decision_id,
            UNIQUEID,
            f"{tmp_path}/{name}.wav",
            datetime.fromtimestamp(ANSWERED_US / 1e6, UTC),
            datetime.fromtimestamp(HANGUP_US / 1e6, UTC),
        )
    ]


async def test_an_answered_channel_is_recorded_from_the_bridge(
    start: Start, tmp_path: Path
) -> None:
    """No answer is left to start it on, and without ``connect`` no ``sendmsg`` is taken at once:
    ``bridge`` runs ``record_session`` on our channel as it joins the legs."""
    sink = ListSink()
    _, fs = await start(FakeMaker(record=True), sink, recordings_dir=str(tmp_path))
    fs.write_recording = _write_file
    record = await fs.call(CHANNEL.with_(**{"Answer-State": "answered"}))
    name = f"dg-{record.variables['dialguard_decision_id']}"
    assert "execute_on_answer_dialguard" not in record.variables
    assert record.variables["bridge_pre_execute_aleg_app"] == "record_session"
    assert record.variables["bridge_pre_execute_aleg_data"] == f"{tmp_path}/{name}.wav"
    assert [app for app, _ in record.apps] == ["uuid_setvar_multi", "uuid_transfer"]
    assert [path for _, _, path, _, _ in sink.calls] == [f"{tmp_path}/{name}.wav"]


async def test_caller_text_never_reaches_a_command(start: Start) -> None:
    maker = FakeMaker()
    _, fs = await start(maker)
    hostile = b"x\n\nsendmsg\ncall-command: execute ${system(id)} \xff\xfe"
    record = await fs.call(CHANNEL.with_(caller_name=hostile, tenant="t\r\nx"))
    assert record.variables["dialguard_verdict"] == "ALLOW"
    assert maker.attempts[0].tenant == "t\r\nx"
    assert not any(b"system" in raw or b"\r" in raw for raw in record.raw)


async def test_an_undialable_destination_is_denied_without_a_decision(start: Start) -> None:
    maker = FakeMaker()
    server, fs = await start(maker)
    record = await fs.call(CHANNEL.with_(callee="138 XML public"))
    assert record.variables["dialguard_reason"] == "gate.bad-request"
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert maker.attempts == []
    assert server.alerts["channel.bad-data"] == 1


async def test_peer_hanging_up_mid_decision_keeps_the_decision(start: Start) -> None:
    maker = FakeMaker(hold=True)
    server, fs = await start(maker)
    session = await fs.connect()
    await session.answer_setup()
    await maker.started.wait()
    await session.hang_up()  # disconnect notice, then close
    maker.release.set()
    await server.wait_idle()
    assert len(maker.attempts) == 1
    assert session.record.commands == SETUP
    assert not server.alerts


async def test_caller_gone_during_decision_lingers_to_hangup_complete(start: Start) -> None:
    maker = FakeMaker(hold=True)
    server, fs = await start(maker)
    session = await fs.connect()
    await session.answer_setup()
    await maker.started.wait()
    await session.end_call("ORIGINATOR_CANCEL", answered=False)
    maker.release.set()
    record = await session.converse()
    assert [c for c in record.commands if c.startswith(VERDICT_COMMANDS)] == []
    assert not server.alerts


GARBAGE = {
    "protocol.missing-colon": b"Content-Type command/reply\n\n",
    "protocol.bad-header": b"\x00\xff\xfe\x01binary: \x02\n\n",
    "protocol.bad-content-length": b"Content-Type: api/response\nContent-Length: -5\n\n",
    "protocol.content-type": b"Content-Type: text/rude-rejection\n\n",
    "protocol.bad-reply": b"Content-Type: command/reply\n\n",
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_garbage_ends_only_that_connection_with_a_rejection(start: Start, kind: str) -> None:
    server, fs = await start(FakeMaker())
    record = await fs.call(dump_response=GARBAGE[kind])
    # Nothing after the garbage was read; the call is killed blind.
    assert record.commands == [*SETUP, f"api uuid_kill {UNIQUEID} OUTGOING_CALL_BARRED"]
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert server.alerts[kind] == 1
    assert (await fs.call()).variables["dialguard_verdict"] == "ALLOW"


async def test_garbage_during_the_decision_rejects_the_call(start: Start) -> None:
    maker = FakeMaker(hold=True)
    server, fs = await start(maker)
    session = await fs.connect()
    await session.answer_setup()
    await maker.started.wait()
    await session.send(event_frame([("Unique-ID", UNIQUEID.encode())]))  # no Event-Name
    maker.release.set()
    record = await session.converse()
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert "dialguard_verdict" not in record.variables
    assert server.alerts["protocol.bad-event"] == 1


async def test_an_oversized_header_block_is_refused(start: Start) -> None:
    server, fs = await start(FakeMaker(), max_header_bytes=4096)
    oversized = b"Content-Type: api/response\nX-Long: " + b"A" * 5000 + b"\n\n"
    record = await fs.call(dump_response=oversized)
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert server.alerts["protocol.too-large"] == 1


async def test_channel_data_with_too_many_headers_is_refused(start: Start) -> None:
    server, fs = await start(FakeMaker(), max_headers=100)
    record = await fs.call()  # FreeSWITCH's dump has about 140 lines
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert "dialguard_verdict" not in record.variables
    assert server.alerts["protocol.too-many-headers"] == 1


async def test_an_oversized_body_is_refused_before_it_arrives(start: Start) -> None:
    server, fs = await start(FakeMaker(), max_body_bytes=1024)
    oversized = b"Content-Length: 999999\nContent-Type: text/event-plain\n\n"
    record = await fs.call(dump_response=oversized)
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    assert server.alerts["protocol.too-large"] == 1


async def test_budget_exceeded_denies_with_gate_timeout(start: Start) -> None:
    maker = FakeMaker(hold=True)  # never released
    _, fs = await start(maker, budget_ms=50)
    record = await fs.call()
    assert record.variables["dialguard_verdict"] == "DENY"
    assert record.variables["dialguard_reason"] == "gate.timeout"
    assert record.hangup_cause == "OUTGOING_CALL_BARRED"
    await maker.failure_recorded.wait()
    assert maker.failures == [(record.variables["dialguard_decision_id"], "gate.timeout")]


async def test_stop_cancels_calls_in_flight(start: Start) -> None:
    maker = FakeMaker(hold=True)
    server, fs = await start(maker)
    session = await fs.connect()
    await session.answer_setup()
    await maker.started.wait()
    await server.stop()
    assert await session.read_command() is None  # the server closed the socket
    await session.close()


async def test_200_concurrent_calls_each_get_their_own_verdict(start: Start) -> None:
    callees = [f"1380013{n:04d}" for n in range(200)]
    maker = FakeMaker(deny={c: "dnc.global" for c in callees[1::2]})
    server, fs = await start(maker)
    records = await asyncio.gather(
        *(fs.call(CHANNEL.with_(callee=c, uniqueid=str(uuid.uuid4()))) for c in callees)
    )
    for callee, record in zip(callees, records, strict=True):
        if callee in maker.deny:
            assert record.variables["dialguard_reason"] == "dnc.global"
            assert record.hangup_cause == "OUTGOING_CALL_BARRED"
        else:
            assert record.variables["dialguard_verdict"] == "ALLOW"
            assert record.apps[-1] == ("uuid_transfer", f"{callee} XML dialguard_allowed")
    assert len({r.variables["dialguard_decision_id"] for r in records}) == 200
    await server.wait_idle()
    assert not server.alerts


@pytest.mark.parametrize(
    ("maker", "verdict_commands"),
    [
        (FakeMaker(record=True), [("uuid_setvar_multi", 3), ("uuid_transfer", 3)]),
        (
            FakeMaker(deny={"13800138000": "callee.dnc"}),
            [("uuid_setvar_multi", 3), ("uuid_kill", 3)],
        ),
    ],
    ids=["allow-recorded", "deny"],
)
async def test_a_decision_takes_three_round_trips(
    start: Start, maker: FakeMaker, verdict_commands: list[tuple[str, int]]
) -> None:
    """``linger`` and ``getvar uuid`` go in the first write; the dump and the subscription (both
    name the uuid) in the second, so the subscription costs no wait of its own; the whole
    verdict in the last write: FreeSWITCH reads and answers them in order."""
    _, fs = await start(maker, ListSink())
    record = await fs.call()
    writes = [1, 1, 2, 2, 2, 2]
    assert list(zip(record.commands, record.writes, strict=True))[:6] == list(
        zip(SETUP, writes, strict=True)
    )
    sent = [app for app, _ in record.apps]
    assert list(zip(sent, record.writes[6:], strict=True)) == verdict_commands
    assert max(record.writes) == 3


async def test_the_inbound_route_is_gated_as_inbound(start: Start) -> None:
    maker = FakeMaker(deny={"01088886666": "callerid.spoofed"})
    _, fs = await start(maker)
    ours = CHANNEL.with_(route="inbound", callee="01088886666", caller="01088886666")
    refused = await fs.call(ours)
    assert maker.attempts[0].direction is Direction.INBOUND
    assert refused.hangup_cause == "INCOMING_CALL_BARRED"  # SIP 403
    stranger = await fs.call(CHANNEL.with_(route="inbound", callee="01088880000"))
    assert stranger.apps[-1] == ("uuid_transfer", "01088880000 XML dialguard_allowed_inbound")
    assert stranger.variables["dialguard_verdict"] == "ALLOW"

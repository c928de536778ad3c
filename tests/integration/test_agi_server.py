from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from dialguard.agi.routes import build_routes
from dialguard.agi.server import AgiServer
from dialguard.agi.testing import (
    HANGUP,
    REPLY_DEAD,
    REPLY_INVALID,
    REPLY_USAGE,
    FakeAsterisk,
    header_block,
)
from dialguard.gate import variables
from dialguard.logs import MaskingFormatter
from dialguard.policy.model import CallAttempt, Decision, Direction, Presentation, Reason, Verdict
from dialguard.settings.agi import AgiSettings

BUDGET_MS = 200
HEADER_TIMEOUT_MS = 400
SETTINGS = AgiSettings(port=0, budget_ms=BUDGET_MS, header_timeout_ms=HEADER_TIMEOUT_MS)


class FakeDecisionMaker:
    """Decides instantly (``verdict``), hangs until cancelled (``hang``) or raises (``fail``)."""

    def __init__(self) -> None:
        self.verdict = Verdict.ALLOW
        self.reasons: tuple[Reason, ...] = ()
        self.record = False
        self.hang = False
        self.fail = False
        self.attempts: list[CallAttempt] = []
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.failures: list[tuple[str, str]] = []
        self.failure_recorded = asyncio.Event()

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        self.failures.append((decision_id, reason))
        self.failure_recorded.set()
        if self.fail:
            raise RuntimeError("database is locked")

    async def decide(self, attempt: CallAttempt) -> Decision:
        self.attempts.append(attempt)
        self.started.set()
        if self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        if self.fail:
            raise RuntimeError("database is locked")
        return Decision(
            decision_id=f"d-{len(self.attempts)}",
            verdict=self.verdict,
            reasons=self.reasons,
            policy_version="test",
            decided_at=datetime(2025, 3, 3, 10, tzinfo=UTC),
            attempt=attempt,
            caller=None,
            callee=None,
            record=self.record,
        )


@pytest.fixture
def maker() -> FakeDecisionMaker:
    return FakeDecisionMaker()


@pytest.fixture
async def server(maker: FakeDecisionMaker) -> AsyncIterator[AgiServer]:
    agi = AgiServer(SETTINGS, build_routes(maker, SETTINGS.budget_ms))
    await agi.start()
    yield agi
    await agi.stop()


@pytest.fixture
def asterisk(server: AgiServer) -> FakeAsterisk:
    return FakeAsterisk(server.port)


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "dialguard.agi" and r.levelno >= logging.ERROR]


async def test_allow_round_trip(asterisk: FakeAsterisk, maker: FakeDecisionMaker) -> None:
    maker.record = True
    call = await asterisk.call(header_block(uniqueid="1754470000.7"))
    assert len(call.commands) == 1
    assert call.commands[0].startswith('EXEC "MSet" ')
    assert call.variables == {
        variables.REASON: "",
        variables.NEXT_ALLOWED: "",
        variables.DECISION_ID: "d-1",
        variables.RECORDING: "dg-1754470000.7",
        variables.NOTICE: "",
        variables.VERDICT: "ALLOW",
    }
    assert maker.attempts == [
        CallAttempt(
            caller="01088886666",
            callee="13800138000",
            tenant="acme",
            purpose="callback",
            presentation=Presentation.ALLOWED,
            direction=Direction.OUTBOUND,
            call_id="1754470000.7",
        )
    ]


async def test_deny_round_trip(asterisk: FakeAsterisk, maker: FakeDecisionMaker) -> None:
    maker.verdict = Verdict.DENY
    maker.record = True
    maker.reasons = (Reason("callee.dnc", "on the DNC list"), Reason("time.quiet_hours", "22:00"))
    call = await asterisk.call()
    assert call.variables[variables.VERDICT] == "DENY"
    assert call.variables[variables.REASON] == "callee.dnc"
    assert call.variables[variables.RECORDING] == ""


async def test_inbound_route(asterisk: FakeAsterisk, maker: FakeDecisionMaker) -> None:
    call = await asterisk.call(header_block("inbound", args=(), callerid="anonymous"))
    assert call.variables[variables.VERDICT] == "ALLOW"
    (attempt,) = maker.attempts
    assert attempt.direction is Direction.INBOUND
    assert attempt.callee == "s"  # no argument: the extension
    assert attempt.presentation is Presentation.RESTRICTED


async def test_outbound_without_callee_is_denied(
    asterisk: FakeAsterisk, maker: FakeDecisionMaker
) -> None:
    call = await asterisk.call(header_block(args=()))
    assert call.variables[variables.REASON] == "gate.bad-request"
    assert maker.attempts == []


async def test_unknown_route_is_denied(asterisk: FakeAsterisk, server: AgiServer) -> None:
    for _ in range(3):
        call = await asterisk.call(header_block("nonesuch"))
        assert call.variables[variables.VERDICT] == "DENY"
        assert call.variables[variables.REASON] == "gate.unknown-route"
    assert server.alerts["route.unknown"] == 3


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
async def test_a_hostile_route_name_is_logged_on_one_masked_line(
    asterisk: FakeAsterisk, caplog: pytest.LogCaptureFixture, as_json: bool
) -> None:
    """What the dialplan (or whoever reaches the port) puts in the script name is logged with
    the alert (control bytes never pass the header parser): it must not forge fields in the
    text format, nor leak a number."""
    route = 'x level=critical event="forged" 13800138000'
    caplog.set_level(logging.INFO, "dialguard.agi")
    call = await asterisk.call(header_block(route))
    assert call.variables[variables.REASON] == "gate.unknown-route"
    (alert,) = [r for r in caplog.records if r.getMessage() == "unknown AGI route, call denied"]
    line = MaskingFormatter(as_json=as_json).format(alert)
    assert len(line.splitlines()) == 1 and "13800138000" not in line
    if as_json:
        assert json.loads(line)["route"] == 'x level=critical event="forged" 138****8000'
    else:
        assert line.endswith(' route="x level=critical event=\\"forged\\" 138****8000"')
        assert " level=error logger=dialguard.agi " in line


async def test_budget_exceeded_denies_within_budget(
    asterisk: FakeAsterisk, maker: FakeDecisionMaker
) -> None:
    maker.hang = True
    started = time.monotonic()
    call = await asterisk.call()
    elapsed = time.monotonic() - started
    assert call.variables[variables.VERDICT] == "DENY"
    assert call.variables[variables.REASON] == "gate.timeout"
    assert BUDGET_MS / 1000 <= elapsed < BUDGET_MS / 1000 + 1.0
    async with asyncio.timeout(1):
        await maker.cancelled.wait()
        await maker.failure_recorded.wait()
    assert maker.failures == [(call.variables[variables.DECISION_ID], "gate.timeout")]


async def test_decide_errors_deny_and_log_once_per_outage(
    asterisk: FakeAsterisk, maker: FakeDecisionMaker, caplog: pytest.LogCaptureFixture
) -> None:
    maker.fail = True
    calls = await asyncio.gather(*(asterisk.call() for _ in range(30)))
    assert {call.variables[variables.REASON] for call in calls} == {"gate.error"}
    (error,) = _errors(caplog)
    assert "RuntimeError: database is locked" in json.dumps(error.__dict__["fields"])
    assert error.exc_info is None
    maker.fail = False
    call = await asterisk.call()
    assert call.variables[variables.VERDICT] == "ALLOW"
    assert [r.getMessage() for r in caplog.records if "recovered" in r.getMessage()] == [
        "decisions recovered after 30 failures"
    ]
    assert len(_errors(caplog)) == 1


async def test_clients_closing_mid_headers_do_not_stall_calls(
    asterisk: FakeAsterisk, server: AgiServer
) -> None:
    full = header_block()
    partials = [b"", b"agi_network: yes\n", b"agi_network: y", full[:-1], full[: len(full) // 2]]
    closers = [asterisk.hang_up_during_headers(partials[i % len(partials)]) for i in range(200)]
    calls = [asterisk.call(header_block(uniqueid=f"1754470000.{i}")) for i in range(20)]
    results = await asyncio.gather(*closers, *calls)
    verdicts = [r.variables[variables.VERDICT] for r in results[200:] if r is not None]
    assert verdicts == ["ALLOW"] * 20
    assert not server.alerts  # a peer that hangs up mid-block is not a protocol error


async def test_slowloris_hits_header_timeout_without_blocking_others(
    asterisk: FakeAsterisk, server: AgiServer
) -> None:
    started = time.monotonic()
    slow = await asterisk.connect(b"agi_network: yes\nagi_network_scr")
    call = await asterisk.call()
    assert call.variables[variables.VERDICT] == "ALLOW"
    assert time.monotonic() - started < HEADER_TIMEOUT_MS / 1000
    await slow.send(b"ipt: outbound\n")  # still dripping: the deadline is for the whole block
    record = await slow.converse()
    assert time.monotonic() - started >= HEADER_TIMEOUT_MS / 1000
    assert record.variables[variables.VERDICT] == "DENY"
    assert record.variables[variables.REASON] == "gate.bad-request"
    assert server.alerts["header.timeout"] == 1


@pytest.mark.parametrize(
    ("block", "kind"),
    [
        (header_block(extra=[("agi_network_script", "inbound")]), "header.duplicate-key"),
        (header_block(extra=[("agi_junk", "x" * 20000)]), "header.too-large"),
        (b"GET / HTTP/1.1\nHost: x\n\n", "header.malformed-line"),
        (header_block(calleridname=b"Eve\r"), "header.control-char"),
    ],
)
async def test_bad_header_block_is_denied_and_alerted_once(
    asterisk: FakeAsterisk,
    server: AgiServer,
    maker: FakeDecisionMaker,
    caplog: pytest.LogCaptureFixture,
    block: bytes,
    kind: str,
) -> None:
    for _ in range(5):
        call = await asterisk.call(block)
        assert call.variables[variables.VERDICT] == "DENY"
        assert call.variables[variables.REASON] == "gate.bad-request"
    assert server.alerts == {kind: 5}
    assert len(_errors(caplog)) == 1
    assert maker.attempts == []


async def test_an_empty_header_block_is_denied_without_waiting(
    asterisk: FakeAsterisk, server: AgiServer, maker: FakeDecisionMaker
) -> None:
    """What followed the empty line was read with it and belongs to no block: the denial goes
    out at once, without waiting for lines that will not come."""
    started = time.monotonic()
    call = await asterisk.call(b"\nagi_request: agi://x/outbound\n\n")
    assert time.monotonic() - started < HEADER_TIMEOUT_MS / 1000 / 2
    assert call.variables[variables.REASON] == "gate.bad-request"
    assert server.alerts == {"header.missing-key": 1}
    assert maker.attempts == []


async def test_hangup_line_before_reply(
    asterisk: FakeAsterisk, server: AgiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "dialguard.agi")
    call = await asterisk.call(replies=(HANGUP, "200 result=0"))
    assert call.variables[variables.VERDICT] == "ALLOW"
    (sent,) = [r for r in caplog.records if r.getMessage() == "verdict sent"]
    assert sent.__dict__["fields"]["hangup"] is True
    assert not server.alerts


async def test_dead_channel_is_logged_at_debug(
    asterisk: FakeAsterisk, server: AgiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "dialguard.agi")
    await asterisk.call(replies=(HANGUP, *REPLY_DEAD))
    (dead,) = [r for r in caplog.records if r.getMessage() == "verdict for a dead channel"]
    assert dead.levelno == logging.DEBUG
    assert not server.alerts


@pytest.mark.parametrize(("replies", "kind"), [(REPLY_USAGE, "520"), (REPLY_INVALID, "510")])
async def test_refused_command_is_alerted(
    asterisk: FakeAsterisk, server: AgiServer, replies: tuple[str, ...], kind: str
) -> None:
    call = await asterisk.call(replies=replies)
    assert len(call.commands) == 1
    assert server.alerts == {f"reply.{kind}": 1}


async def test_hostile_caller_text_reaches_no_command(
    asterisk: FakeAsterisk, maker: FakeDecisionMaker
) -> None:
    name = 'Eve" \\" ,DIALGUARD_VERDICT=ALLOW ${SHELL(id)} \u2028\u0085'.encode() + b"\xff"
    number = '1",DIALGUARD_VERDICT=ALLOW'
    maker.verdict = Verdict.DENY
    maker.record = True
    call = await asterisk.call(header_block(calleridname=name, callerid=number, uniqueid='1"2'))
    (command,) = call.commands
    for fragment in ("Eve", "SHELL", "\u2028", "\u0085", "\ufffd", number, '1"2'):
        assert fragment not in command
    assert call.variables[variables.VERDICT] == "DENY"
    assert maker.attempts[0].caller == number


async def test_newline_in_caller_name_cannot_override_a_key(
    asterisk: FakeAsterisk, maker: FakeDecisionMaker
) -> None:
    call = await asterisk.call(header_block(calleridname=b"Eve\nagi_network_script: inbound"))
    assert call.variables[variables.REASON] == "gate.bad-request"
    assert maker.attempts == []


async def test_log_lines_carry_the_call_id(
    asterisk: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    formatter = MaskingFormatter(as_json=True)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(formatter.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("dialguard.agi")
    logger.addHandler(handler)
    caplog.set_level(logging.INFO, "dialguard.agi")
    try:
        await asterisk.call(header_block(uniqueid="1754470000.99"))
    finally:
        logger.removeHandler(handler)
    (line,) = [json.loads(line) for line in lines if "verdict sent" in line]
    assert line["call"] == "1754470000.99"
    assert line["verdict"] == "allow"


async def test_stop_cancels_calls_in_flight(maker: FakeDecisionMaker) -> None:
    maker.hang = True
    agi = AgiServer(SETTINGS, build_routes(maker, budget_ms=60_000))
    await agi.start()
    call = asyncio.create_task(FakeAsterisk(agi.port).call())
    async with asyncio.timeout(2):
        await maker.started.wait()
        await agi.stop()
        record = await call
        await maker.cancelled.wait()
    assert record.commands == []

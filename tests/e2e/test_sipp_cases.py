"""SIPp calls through a real Asterisk running the shipped dialplan snippet, against the real
gate (``dialguard serve``), one test per case in ``sipp-scenarios/index.toml``.

Each case gets a fresh store and AGI port. Per call: start what should listen on the gate's
port (the gate with its clock frozen at the call's time, nothing, or a stuck server), place
the call, stop the listener, then check the SIP final response and the recorded decision.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from devkit.agi_peers import HeaderAbortClient, StuckAgiServer
from devkit.asterisk import AsteriskContainer
from devkit.cases import Call, Case, load_cases
from devkit.gate import Gate
from devkit.net import free_port
from devkit.sipp import SippResult, run_scenario
from dialguard.numbers import normalize

pytestmark = pytest.mark.pbx

CASES = load_cases()
CALL_TIMEOUT_S = 30.0
MIN_ABORTED_CONNECTIONS = 20
MIN_RECORDING_BYTES = 16_000  # one second of 8 kHz 16-bit audio


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, asterisk: AsteriskContainer, tmp_path: Path) -> None:
    port = free_port()
    asterisk.set_global("DIALGUARD_AGI", f"agi://127.0.0.1:{port}")
    gate = Gate(tmp_path / "gate", port, now=case.now)
    _seed(gate, case)
    decided: Counter[str] = Counter()  # decisions recorded so far, per callee
    with _abuse(case, port) as abuser:
        for index, call in enumerate(case.calls, start=1):
            _check_call(asterisk, gate, case, index, call, decided, tmp_path / f"call-{index}")
    if abuser is not None:
        assert abuser.aborted >= MIN_ABORTED_CONNECTIONS, (
            f"the header-abort client only got {abuser.aborted} connections in "
            f"({abuser.refused} refused): the case did not exercise the gate"
        )


def _seed(gate: Gate, case: Case) -> None:
    gate.init()
    for n in case.numbers:
        gate.add_number(
            n.number, tenant=case.tenant, purpose=n.purpose, outbound=n.outbound, number_type=n.type
        )
    for d in case.dnc:
        gate.add_dnc(d.number, tenant=case.tenant, reason=d.reason)
    for c in case.consent:
        gate.add_consent(c.callee, tenant=case.tenant, purpose=c.purpose, evidence=c.evidence)


@contextlib.contextmanager
def _abuse(case: Case, port: int) -> Iterator[HeaderAbortClient | None]:
    if case.abuse is None:
        yield None
        return
    with HeaderAbortClient(port) as client:
        yield client


def _check_call(
    asterisk: AsteriskContainer,
    gate: Gate,
    case: Case,
    index: int,
    call: Call,
    decided: Counter[str],
    workdir: Path,
) -> None:
    gate.now = call.now
    with _peer(call, gate):
        result = run_scenario(
            call.scenario,
            port=asterisk.sip_port,
            service=call.callee,
            keys={"caller": call.caller},
            timeout_s=CALL_TIMEOUT_S,
            workdir=workdir,
        )
    where = f"{case.name} call {index} ({call.caller} -> {call.callee} at {call.now})"
    context = _context(result, asterisk, gate)
    assert result.final_codes == (call.sip,), f"{where}: SIP {result.final_codes}\n{context}"
    assert result.exit_code == 0, f"{where}: SIPp did not follow the scenario\n{context}"
    setup = result.calls[0].setup_s
    assert setup is not None
    if call.min_setup_s is not None:
        assert setup >= call.min_setup_s, f"{where}: final response after {setup:.2f}s\n{context}"
    if call.max_setup_s is not None:
        assert setup <= call.max_setup_s, f"{where}: final response after {setup:.2f}s\n{context}"

    if call.verdict == "none":
        rows = gate.decisions()
        assert len(rows) == decided.total(), f"{where}: expected no new decision, got {rows}"
        return
    decided[call.callee] += 1
    rows = gate.decisions(callee=call.callee)
    assert len(rows) == decided[call.callee], f"{where}: expected one new decision: {rows}"
    _check_decision(rows[0], case, call, where)
    if call.recorded is not None:
        _check_recording(rows[0], call.recorded, asterisk, where)


def _check_decision(row: dict[str, Any], case: Case, call: Call, where: str) -> None:
    expected = {
        "verdict": call.verdict,
        "caller": normalize(call.caller),
        "callee": normalize(call.callee),
        "tenant": case.tenant,
        "purpose": "callback",
    }
    actual = {key: row.get(key) for key in expected}
    assert actual == expected, f"{where}: decision {row}"
    assert datetime.fromisoformat(row["decided_at"]) == datetime.fromisoformat(call.now), (
        f"{where}: decided_at {row['decided_at']} is not the gate's frozen clock {call.now}"
    )
    codes = [reason["code"] for reason in row["reasons"]]
    if call.reason is not None:
        assert codes[:1] == [call.reason], f"{where}: reasons {row['reasons']}"
    if call.verdict == "allow":
        assert row["call_id"], f"{where}: decision without the call's id: {row}"


def _check_recording(
    row: dict[str, Any], recorded: bool, asterisk: AsteriskContainer, where: str
) -> None:
    """The gate names the file after Asterisk's uniqueid (the decision's call_id); the far end
    echoes the caller's audio, so a working media path leaves over a second of it."""
    assert row["record"] is recorded, f"{where}: decision record={row['record']}"
    wav = asterisk.monitor_dir / f"dg-{row['call_id']}.wav"
    if recorded:
        assert wav.exists(), f"{where}: no recording {wav}: {list(asterisk.monitor_dir.iterdir())}"
        assert wav.stat().st_size > MIN_RECORDING_BYTES, f"{where}: {wav} is nearly empty"
    else:
        assert not wav.exists(), f"{where}: recorded although the decision says not to"


@contextlib.contextmanager
def _peer(call: Call, gate: Gate) -> Iterator[None]:
    if call.peer == "gate":
        with gate:
            yield
    elif call.peer == "stuck":
        with StuckAgiServer(gate.port) as stuck:
            yield
        assert stuck.accepted == 1, f"Asterisk connected {stuck.accepted} times to the stuck gate"
    else:
        yield


def _context(result: SippResult, asterisk: AsteriskContainer, gate: Gate) -> str:
    return "\n".join(
        [f"sipp errors: {result.errors[-1500:]}", asterisk.log_tail(25), gate.log_tail(15)]
    )

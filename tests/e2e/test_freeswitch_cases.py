"""SIPp calls through a real FreeSWITCH 1.11.1 running the shipped ``dialguard.xml`` (included
byte for byte) against the real gate (``dialguard serve`` with the ESL outbound socket), one test
per case in ``sipp-scenarios/freeswitch.toml``, all against one FreeSWITCH for the session.

Each case gets a fresh store, vault and ports; ``dialguard_socket`` (a FreeSWITCH global) points
at the case's gate. Per call: start what should listen there (the gate with its clock frozen at
the call's time, nothing, a frozen server, or one that dies mid-decision), place the call, for a
recorded call wait (bounded) until the gate has ingested ``record_session``'s file into the
vault, stop the listener, then check the SIP final response and its timing, the recorded
decision, the vault entry and the exported audio.
"""

from __future__ import annotations

import contextlib
import math
import wave
from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_sipp_cases import (  # the Asterisk cases' checks, shared
    DURATION_TOLERANCE_S,
    MIN_RMS,
    _check_vault_entry,
    _seed,
    _wait_for_vault,
)

from devkit.agi_peers import StuckAgiServer
from devkit.cases import Call, Case, load_cases
from devkit.esl_peers import DyingEslGate
from devkit.freeswitch import FreeSwitch
from devkit.gate import Gate, RecordingPeer
from devkit.net import free_port
from devkit.sipp import SippResult, run_scenario
from dialguard.numbers import InvalidNumber, normalize

pytestmark = pytest.mark.pbx

CASES = load_cases(index_file="freeswitch.toml")
CALL_TIMEOUT_S = 30.0
MEDIA_START_S = 0.5
"""FreeSWITCH records the media that flows: the file starts with the caller's first RTP packet
after the 200 OK, measured 0.27-0.29 s later here (SIPp starts its pcap after the ACK, and the
first packets renegotiate the 30 ms ptime). MixMonitor on Asterisk fills that gap with silence."""


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, freeswitch: FreeSwitch, tmp_path: Path) -> None:
    esl_port = free_port()
    freeswitch.set_global("dialguard_socket", f"127.0.0.1:{esl_port}")
    # No AMI on FreeSWITCH: the gate learns of a finished recording from RECORD_STOP.
    peer = RecordingPeer(freeswitch.recordings_dir, 0, "", "")
    gate = Gate(
        tmp_path / "gate",
        free_port(),
        now=case.now,
        recording=peer,
        esl_port=esl_port,
        esl_recordings_dir=freeswitch.recordings_dir,
    )
    _seed(gate, case)
    decided: Counter[str] = Counter()
    for index, call in enumerate(case.calls, start=1):
        _check_call(freeswitch, gate, case, index, call, decided, tmp_path / f"call-{index}")


def _check_call(
    fs: FreeSwitch,
    gate: Gate,
    case: Case,
    index: int,
    call: Call,
    decided: Counter[str],
    workdir: Path,
) -> None:
    gate.now = call.now
    where = f"{case.name} call {index} ({call.caller} -> {call.callee} at {call.now})"
    service = f"in{call.callee}" if call.route == "inbound" else call.callee
    with _peer(call, gate):
        result = run_scenario(
            call.scenario,
            port=fs.sip_port,
            service=service,
            keys={"caller": call.caller},
            timeout_s=CALL_TIMEOUT_S,
            workdir=workdir,
        )
        context = _context(result, fs, gate)
        vaulted = None
        if call.recorded and result.final_codes == (200,):
            vaulted = _wait_for_vault(gate, call, where, context)
    assert result.final_codes == (call.sip,), f"{where}: SIP {result.final_codes}\n{context}"
    assert result.exit_code == 0, f"{where}: SIPp did not follow the scenario\n{context}"
    setup = result.calls[0].setup_s
    assert setup is not None
    print(f"{where}: SIP {call.sip} after {setup:.3f}s")
    if call.min_setup_s is not None:
        assert setup >= call.min_setup_s, f"{where}: final response after {setup:.2f}s\n{context}"
    if call.max_setup_s is not None:
        assert setup <= call.max_setup_s, f"{where}: final response after {setup:.2f}s\n{context}"

    if call.verdict == "none":
        rows = gate.decisions()
        assert len(rows) == decided.total(), f"{where}: expected no new decision, got {rows}"
        return
    decided[call.callee] += 1
    rows = [row for row in gate.decisions() if row["callee"] == _stored(call.callee)]
    assert len(rows) == decided[call.callee], f"{where}: expected one new decision: {rows}"
    _check_decision(rows[0], case, call, where)
    if call.recorded is not None:
        assert rows[0]["record"] is call.recorded, f"{where}: decision {rows[0]}"
    wav = fs.recordings_dir / f"dg-{rows[0]['decision_id']}.wav"
    if vaulted is None:
        if call.recorded is False:
            assert not wav.exists(), f"{where}: recorded although the decision says not to"
        return
    assert not wav.exists(), f"{where}: ingested, but {wav} is still where FreeSWITCH wrote it"
    talk_s = result.calls[0].talk_s
    assert talk_s is not None, f"{where}: the caller sent no BYE\n{context}"
    # FreeSWITCH's recordings are named after the decision (its uniqueids are UUIDs).
    as_named = dict(rows[0], call_id=rows[0]["decision_id"])
    _check_vault_entry(dict(vaulted, call_id=rows[0]["decision_id"]), as_named, call, where)
    assert vaulted["call_id"] == rows[0]["call_id"], f"{where}: {vaulted} vs {rows[0]}"
    _check_audio(gate, vaulted, talk_s, workdir / "exported.wav", where)


def _check_audio(gate: Gate, entry: dict[str, Any], talk_s: float, out: Path, where: str) -> None:
    """Export (decrypts and checks the SHA-256), then measure the WAV against the call: never
    longer (recording starts at the answer: no ringing in it), and short only by the moment
    before the caller's first RTP packet; and loud, not silence."""
    gate.export_recording(entry["id"], out)
    with wave.open(str(out), "rb") as audio:
        assert (audio.getsampwidth(), audio.getnchannels()) == (2, 1), f"{where}: not 16-bit mono"
        seconds = audio.getnframes() / audio.getframerate()
        samples = array("h", audio.readframes(audio.getnframes()))
    rms = math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0
    print(f"{where}: recorded {seconds:.3f}s, call {talk_s:.3f}s, RMS {rms:.0f}")
    assert talk_s - MEDIA_START_S <= seconds <= talk_s + DURATION_TOLERANCE_S, (
        f"{where}: recording lasts {seconds:.3f}s, the call {talk_s:.3f}s"
    )
    assert entry["duration_ms"] == round(seconds * 1000), f"{where}: {entry}"
    assert rms > MIN_RMS, f"{where}: the recording is silence (RMS {rms:.0f})"


def _check_decision(row: dict[str, Any], case: Case, call: Call, where: str) -> None:
    direction = call.route
    expected = {
        "verdict": call.verdict,
        "callee": _stored(call.callee),
        "tenant": case.tenant,
        "direction": direction,
    }
    actual = {key: row.get(key) for key in expected}
    assert actual == expected, f"{where}: decision {row}"
    if call.caller.isdigit():
        assert row["caller"] == normalize(call.caller), f"{where}: decision {row}"
    if call.route == "outbound":
        assert row["purpose"] == "callback", f"{where}: decision {row}"
    assert datetime.fromisoformat(row["decided_at"]) == datetime.fromisoformat(call.now), (
        f"{where}: decided_at {row['decided_at']} is not the gate's frozen clock {call.now}"
    )
    codes = [reason["code"] for reason in row["reasons"]]
    if call.reason is not None:
        assert codes[:1] == [call.reason], f"{where}: reasons {row['reasons']}"
    if call.verdict == "allow":
        assert row["call_id"], f"{where}: decision without the call's id: {row}"


def _stored(number: str) -> str:
    """How the gate stores a callee: E.164, or as dialled when it is no number (``110``)."""
    try:
        return normalize(number)
    except InvalidNumber:
        return number


@contextlib.contextmanager
def _peer(call: Call, gate: Gate) -> Iterator[None]:
    if call.peer == "gate":
        with gate:
            yield
    elif call.peer == "stuck":
        with StuckAgiServer(gate.esl_port or 0) as stuck:
            yield
        assert stuck.accepted == 1, f"FreeSWITCH connected {stuck.accepted} times"
    elif call.peer == "killed":
        with DyingEslGate(gate.esl_port or 0) as dying:
            yield
        assert dying.dumped, "FreeSWITCH never answered the dying gate's uuid_dump"
    else:
        yield


def _context(result: SippResult, fs: FreeSwitch, gate: Gate) -> str:
    return "\n".join([f"sipp errors: {result.errors[-1500:]}", fs.log_tail(25), gate.log_tail(15)])

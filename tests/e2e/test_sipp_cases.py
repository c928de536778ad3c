"""SIPp calls through a real Asterisk running the shipped dialplan snippet, against the real
gate (``dialguard serve``), one test per case in ``sipp-scenarios/index.toml``.

Each case gets a fresh store, vault and AGI port. Per call: start what should listen on the
gate's port (the gate with its clock frozen at the call's time, nothing, or a stuck server),
place the call, for a recorded call wait (bounded) until the gate has ingested MixMonitor's file
into the vault, stop the listener, then check the SIP final response, the recorded decision
and the vault entry: metadata, retention, and the exported audio itself.
"""

from __future__ import annotations

import contextlib
import math
import time
import wave
from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.agi_peers import HeaderAbortClient, StuckAgiServer
from devkit.asterisk import AsteriskContainer
from devkit.cases import Call, Case, load_cases
from devkit.gate import Gate, RecordingPeer
from devkit.net import free_port
from devkit.sipp import SippResult, run_scenario
from dialguard.numbers import normalize, try_normalize

pytestmark = pytest.mark.pbx

CASES = load_cases()
CALL_TIMEOUT_S = 30.0
MIN_ABORTED_CONNECTIONS = 20
INGEST_DEADLINE_S = 30.0
"""AMI Hangup → the file unchanged for hangup_settle_s (2 s) → ingest: seconds, not tens."""
DURATION_TOLERANCE_S = 0.25
"""Recorded length vs. the caller's 200 OK → BYE. MixMonitor records from its start (just
before Answer) until the channel hangs up on the BYE: the two differ only by signalling
latency and 20 ms frame boundaries, measured at 0.01-0.06 s here. A quarter second leaves room
for a loaded machine and still fails a recording that lost or invented a tenth of the call."""
NOTICE_S = 0.44
"""The recording notice (CN requires it; the default prompt, Asterisk's 0.44 s ``beep``) plays
after answer and before MixMonitor starts: that much of the call is not in the recording."""
MIN_RMS = 300.0
"""Digital silence is 0 and comfort noise stays below ~100; g711a.pcap's speech has an RMS of
1600-2800 after its first, quiet second (decoded A-law, 16-bit). 300 is well clear of both."""


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, asterisk: AsteriskContainer, tmp_path: Path) -> None:
    port = free_port()
    asterisk.set_global("DIALGUARD_AGI", f"agi://127.0.0.1:{port}")
    peer = RecordingPeer(
        asterisk.monitor_dir,
        asterisk.config.ami_port,
        asterisk.config.ami_username,
        asterisk.config.ami_secret,
    )
    gate = Gate(tmp_path / "gate", port, now=case.now, recording=peer)
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
    gate.set_industry(case.tenant, case.industry or "general")
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
    where = f"{case.name} call {index} ({call.caller} -> {call.callee} at {call.now})"
    with _peer(call, gate):
        result = run_scenario(
            call.scenario,
            port=asterisk.sip_port,
            service=call.callee,
            keys={"caller": call.caller},
            timeout_s=CALL_TIMEOUT_S,
            workdir=workdir,
        )
        context = _context(result, asterisk, gate)
        vaulted = None
        if call.recorded and result.final_codes == (200,):
            vaulted = _wait_for_vault(gate, call, where, context)
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
    rows = _decisions_for(gate, call.callee)
    assert len(rows) == decided[call.callee], f"{where}: expected one new decision: {rows}"
    _check_decision(rows[0], case, call, where)
    if call.recorded is not None:
        assert rows[0]["record"] is call.recorded, f"{where}: decision {rows[0]}"
    wav = asterisk.monitor_dir / f"dg-{rows[0]['call_id']}.wav"
    if vaulted is None:
        if call.recorded is False:
            assert not wav.exists(), f"{where}: recorded although the decision says not to"
        return
    assert not wav.exists(), f"{where}: ingested, but {wav} is still in the spool"
    talk_s = result.calls[0].talk_s
    assert talk_s is not None, f"{where}: the caller sent no BYE\n{context}"
    _check_vault_entry(vaulted, rows[0], call, where)
    _check_audio(gate, vaulted, talk_s, workdir / "exported.wav", where)


def _decisions_for(gate: Gate, callee: str) -> list[dict[str, Any]]:
    """The gate's decisions for ``callee``, newest first. A callee that is not a valid number
    (``+110``) cannot be asked for: its decisions carry it as dialled."""
    if try_normalize(callee) is not None:
        return gate.decisions(callee=callee)
    return [row for row in gate.decisions() if row["callee"] == callee]


def _check_decision(row: dict[str, Any], case: Case, call: Call, where: str) -> None:
    expected = {
        "verdict": call.verdict,
        "caller": normalize(call.caller),
        "callee": try_normalize(call.callee) or call.callee,
        "tenant": case.tenant,
        "purpose": "callback",
        "next_allowed_at": call.next_allowed,
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


def _wait_for_vault(gate: Gate, call: Call, where: str, context: str) -> dict[str, Any]:
    """Poll ``recordings list --json`` (the gate still running) until the entry of the call's
    decision (the newest for its callee: stored before Asterisk heard the verdict) is in."""
    decisions = gate.decisions(callee=call.callee)
    assert decisions, f"{where}: answered, but no decision\n{context}"
    decision_id = decisions[0]["decision_id"]
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while True:
        entries = gate.recordings(callee=call.callee)
        ours = [e for e in entries if e["decision_id"] == decision_id]
        if ours:
            return ours[0]
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"{where}: nothing in the vault after {INGEST_DEADLINE_S}s\n{context}\n"
                f"{gate.log_tail()}"
            )
        time.sleep(0.25)


def _check_vault_entry(
    entry: dict[str, Any], decision: dict[str, Any], call: Call, where: str
) -> None:
    assert (entry["decision_id"], entry["call_id"], entry["name"]) == (
        decision["decision_id"],
        decision["call_id"],
        f"dg-{decision['call_id']}",
    ), f"{where}: vault entry {entry} for decision {decision}"
    terms = entry["retention"]
    ended = datetime.fromisoformat(entry["ended_at"])
    if call.retention_days is not None:
        assert terms["min_days"] == call.retention_days, f"{where}: {terms}"
        assert terms["anchor_event"] == "call_end", f"{where}: {terms}"
        until = datetime.fromisoformat(terms["retain_until"])
        assert until == ended + timedelta(days=call.retention_days), f"{where}: {terms}"
    if call.legal_basis is not None:
        assert call.legal_basis in terms["legal_basis"], f"{where}: {terms}"
    assert not entry["legal_hold"] and entry["deleted_at"] is None, f"{where}: {entry}"


def _check_audio(gate: Gate, entry: dict[str, Any], talk_s: float, out: Path, where: str) -> None:
    """Export (decrypts and checks the SHA-256), then measure the WAV: its length against the
    call's, and its loudness (RMS of the 16-bit samples) against silence."""
    gate.export_recording(entry["id"], out)
    with wave.open(str(out), "rb") as audio:
        assert (audio.getsampwidth(), audio.getnchannels()) == (2, 1), f"{where}: not 16-bit mono"
        seconds = audio.getnframes() / audio.getframerate()
        samples = array("h", audio.readframes(audio.getnframes()))
    rms = math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0
    print(f"{where}: recorded {seconds:.3f}s, call {talk_s:.3f}s, RMS {rms:.0f}")
    expected = talk_s - (NOTICE_S if entry["notice"] == "played" else 0.0)
    assert abs(seconds - expected) <= DURATION_TOLERANCE_S, (
        f"{where}: recording lasts {seconds:.3f}s, the call {talk_s:.3f}s, notice {entry['notice']}"
    )
    assert entry["duration_ms"] == round(seconds * 1000), f"{where}: {entry}"
    assert rms > MIN_RMS, f"{where}: the recording is silence (RMS {rms:.0f})"


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

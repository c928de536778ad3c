"""In the call itself, through the real FreeSWITCH 1.11.1 running the shipped ``dialguard.xml``
(byte for byte) and the real gate on the outbound socket. SIPp plays the caller and, behind the
devkit's carrier profile (the global ``devkit_callee``), a SIPp UAS plays the callee: the
recording notice reaches the callee before the caller's channel is answered, which is when the
recording starts, and the vault entry says so; the callee's keypad opt-out (RFC 2833 DTMF from the
callee's side) lists them at once and the confirmation plays to them; the verstat a carrier puts
on an inbound caller ID reaches the policy (FreeSWITCH does not verify Identity here)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from in_call_checks import assert_keypad_optout, rtp_listener

from devkit.cases import SCENARIOS_DIR, load_cases
from devkit.freeswitch import FreeSwitch
from devkit.gate import Gate, RecordingPeer
from devkit.net import LOOPBACK, free_port
from devkit.sipp import CallResult, SippCallee, SippResult, run_scenario

pytestmark = pytest.mark.pbx

TENANT = load_cases(index_file="freeswitch.toml")[0].tenant
"""The tenant the devkit FreeSWITCH's extensions set (``dialguard_tenant``)."""
NOW = "2026-11-25T10:00:00+08:00"  # Wednesday, 10:00 in Beijing: inside calling hours
CALLER = "01062345678"
CALLEE = "13800138000"
CALLEE_E164 = "+8613800138000"
US_DID = "+12025550143"
FOREIGN_CALLER = "+12125550100"
CALL_TIMEOUT_S = 30.0
INGEST_DEADLINE_S = 30.0
NOTICE_MS = 1000
NOTICE = f"tone_stream://%({NOTICE_MS},0,1000)"
"""The notice for these tests: one second of tone, 50 RTP packets of 20 ms."""
CONFIRM = "tone_stream://%(600,0,440)"
PACKET_S = 0.02
ALLOWED = SCENARIOS_DIR / "allowed/scenario.xml"


def _gate(fs: FreeSwitch, workdir: Path, **settings: str) -> Gate:
    esl_port = free_port()
    fs.set_global("dialguard_socket", f"{LOOPBACK}:{esl_port}")
    gate = Gate(
        workdir,
        free_port(),
        now=NOW,
        recording=RecordingPeer(fs.recordings_dir, 0, "", ""),  # no AMI: RECORD_STOP
        esl_port=esl_port,
        esl_recordings_dir=fs.recordings_dir,
    )
    gate.settings.update(settings)
    gate.init()
    gate.add_number("+861062345678", tenant=TENANT, purpose="callback", number_type="call-centre")
    gate.add_consent(CALLEE_E164, tenant=TENANT, purpose="callback", evidence="crm-ticket-4711")
    return gate


@contextlib.contextmanager
def _callee(fs: FreeSwitch, scenario: str, rtp_port: int, workdir: Path) -> Iterator[SippCallee]:
    """The callee, a SIPp UAS, behind the carrier profile for as long as the block lasts; its
    SDP offers ``rtp_port`` for the audio FreeSWITCH sends it."""
    with SippCallee(
        SCENARIOS_DIR / f"in_call/{scenario}",
        keys={"rtp_port": str(rtp_port)},
        timeout_s=CALL_TIMEOUT_S,
        workdir=workdir,
    ) as callee:
        fs.set_global("devkit_callee", f"{LOOPBACK}:{callee.port}")
        try:
            yield callee
        finally:
            fs.set_global("devkit_callee", "")


def _call(fs: FreeSwitch, scenario: Path, workdir: Path, service: str = CALLEE) -> SippResult:
    return run_scenario(
        scenario,
        port=fs.sip_port,
        service=service,
        keys={"caller": CALLER},
        timeout_s=CALL_TIMEOUT_S,
        workdir=workdir,
    )


def _answered_at(call: CallResult) -> float:
    """The epoch second FreeSWITCH answered the caller's channel (its 200 OK arrived)."""
    assert call.final_code == 200 and call.final_at is not None, call
    return call.final_at.timestamp()  # naive local time, as SIPp writes it


def _wait_for(what: str, found: Any, context: str) -> Any:
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while not (value := found()):
        assert time.monotonic() < deadline, f"no {what} after {INGEST_DEADLINE_S}s\n{context}"
        time.sleep(0.1)
    return value


def _noticed_call(
    fs: FreeSwitch, tmp_path: Path, notice: str
) -> tuple[dict[str, Any], dict[str, Any], list[float], float]:
    """One recorded call to a callee whose pack (CN) requires the notice; returns its vault
    entry, its decision row once the recording is ingested, when the notice's (and later) RTP
    reached the callee, and when the caller's channel was answered."""
    gate = _gate(fs, tmp_path / "gate", DIALGUARD_ESL_NOTICE_SOUND=notice)
    with (
        gate,
        rtp_listener() as (rtp_port, arrivals),
        _callee(fs, "callee_notice.xml", rtp_port, tmp_path / "callee") as callee,
    ):
        result = _call(fs, ALLOWED, tmp_path / "call")
        context = f"sipp: {result.errors[-1500:]}\n{fs.log_tail(30)}\n{gate.log_tail(15)}"
        assert (result.final_codes, result.exit_code) == ((200,), 0), context
        (decision,) = gate.decisions(callee=CALLEE)
        assert decision["record"] is True, decision
        assert decision["notice"] in ("required", "played", "missing"), decision

        def ours() -> list[dict[str, Any]]:
            entries = gate.recordings(callee=CALLEE)
            return [e for e in entries if e["decision_id"] == decision["decision_id"]]

        (entry,) = _wait_for("vault entry", ours, context)
        # The ingest commits the entry, then removes the spool file and the report beside it.
        report = fs.recordings_dir / f"{entry['name']}.notice"
        _wait_for("removal of the notice report", lambda: not report.exists(), context)
        (decision,) = gate.decisions(callee=CALLEE)  # the ingest has settled its notice
    assert callee.exit_code == 0, f"the callee's side: {callee.errors[-1500:]}\n{context}"
    return entry, decision, list(arrivals), _answered_at(result.calls[0])


def test_the_callee_hears_the_notice_before_the_recording(
    freeswitch: FreeSwitch, tmp_path: Path
) -> None:
    """The callee's side receives the notice's RTP, all of it before FreeSWITCH answers the
    caller's channel (when ``execute_on_answer`` starts ``record_session``), and the vault
    entry and the decision row both say ``notice: played``."""
    entry, decision, arrivals, answered = _noticed_call(freeswitch, tmp_path, NOTICE)
    assert (entry["notice"], entry["notice_prompt"]) == ("played", NOTICE), entry
    assert (decision["notice"], decision["notice_prompt"]) == ("played", NOTICE), decision
    before = [t for t in arrivals if t < answered]
    print(f"notice: {len(before)} RTP packets before the answer, {len(arrivals)} in all")
    expected = NOTICE_MS / 1000 / PACKET_S
    assert len(before) >= 0.8 * expected, (len(before), len(arrivals), answered)
    assert before[-1] - before[0] >= NOTICE_MS / 1000 - 0.15, (before[0], before[-1])
    assert answered - before[-1] < 1.0, "the answer came long after the notice"


def test_a_notice_that_did_not_play_is_flagged(freeswitch: FreeSwitch, tmp_path: Path) -> None:
    """The operator's notice file is missing: the call is still recorded, and its vault entry
    and decision row say ``notice: missing``."""
    missing = "/nonexistent/dialguard-notice.wav"
    entry, decision, _, _ = _noticed_call(freeswitch, tmp_path, missing)
    assert (entry["notice"], entry["notice_prompt"]) == ("missing", missing), entry
    assert (decision["notice"], decision["notice_prompt"]) == ("missing", missing), decision


def test_the_callee_key_lists_them_and_the_next_call_is_denied(
    freeswitch: FreeSwitch, tmp_path: Path
) -> None:
    """The callee presses 9 (RFC 2833 from the callee's side): the confirmation plays to the
    callee, their leg is hung up and so the call; the next call to them is denied callee.dnc,
    and the audit entry names the keypad and the decision."""
    fs = freeswitch
    gate = _gate(fs, tmp_path / "gate", DIALGUARD_ESL_OPTOUT_CONFIRM=CONFIRM)
    with gate:
        with (
            rtp_listener() as (rtp_port, arrivals),
            _callee(fs, "callee_keypad.xml", rtp_port, tmp_path / "callee") as callee,
        ):
            first = _call(fs, SCENARIOS_DIR / "in_call/caller_until_bye.xml", tmp_path / "c1")
        second = _call(fs, ALLOWED, tmp_path / "call-2")
    context = f"sipp: {first.errors[-1500:]}\n{fs.log_tail(40)}\n{gate.log_tail(15)}"
    # 200, then FreeSWITCH hung up on the key (both scenarios wait for its BYE).
    assert (first.final_codes, first.exit_code) == ((200,), 0), context
    assert callee.exit_code == 0, f"the callee's side: {callee.errors[-1500:]}\n{context}"
    assert second.final_codes == (403,), context

    # The caller sends no audio: what reaches the callee after the answer is the confirmation.
    after = [t for t in arrivals if t > _answered_at(first.calls[0])]
    print(f"confirmation: {len(after)} RTP packets to the callee after the answer")
    assert len(after) >= 0.6 * 0.6 / PACKET_S, (len(after), context)

    assert_keypad_optout(gate, CALLEE, TENANT)


@pytest.mark.parametrize(
    ("verstat", "scenario", "sip", "verdict", "reason"),
    [
        ("TN-Validation-Failed", "user_part", 403, "deny", "callerid.verification_failed"),
        ("TN-Validation-Failed", "refused", 403, "deny", "callerid.verification_failed"),
        ("TN-Validation-Passed", "allowed", 200, "allow", None),
    ],
    ids=["failed-in-user-part", "failed-as-uri-parameter", "passed"],
)
def test_inbound_verstat_through_freeswitch(
    freeswitch: FreeSwitch,
    tmp_path: Path,
    verstat: str,
    scenario: str,
    sip: int,
    verdict: str,
    reason: str | None,
) -> None:
    """The carrier's verstat in P-Asserted-Identity (parsed verbatim by the profile; in the
    user part as ATIS writes it, or as a URI parameter) reaches the gate through the snippet's
    dialguard_inbound, and the caller number stays clean; the US pack (the called DID is
    American) refuses a failed verification and stores the reason on the decision."""
    gate = _gate(freeswitch, tmp_path / "gate")
    with gate:
        result = run_scenario(
            SCENARIOS_DIR / f"in_call/inbound_verstat_{scenario}.xml",
            port=freeswitch.sip_port,
            service=f"in{US_DID}",
            keys={"caller": FOREIGN_CALLER, "verstat": verstat},
            timeout_s=CALL_TIMEOUT_S,
            workdir=tmp_path / "call",
        )
    context = f"sipp: {result.errors[-1500:]}\n{freeswitch.log_tail(30)}\n{gate.log_tail(15)}"
    assert (result.final_codes, result.exit_code) == ((sip,), 0), context
    rows = gate.decisions(callee=US_DID)
    assert len(rows) == 1, rows
    (row,) = rows
    codes = [r["code"] for r in row["reasons"]]
    assert (row["verdict"], row["direction"], row["caller"], codes[:1]) == (
        verdict,
        "inbound",
        FOREIGN_CALLER,
        [reason] if reason else [],
    ), row

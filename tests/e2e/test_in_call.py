"""In the call itself, through a real Asterisk running the shipped snippet and the real gate:
the callee's keypad opt-out (RFC 2833 DTMF from SIPp) lists them at once; the STIR/SHAKEN
verstat a carrier puts on an inbound caller ID reaches the policy; the recording notice plays
to the callee before the recording starts, and the vault entry says so."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from in_call_checks import assert_keypad_optout, rtp_listener

from devkit.asterisk import AsteriskContainer
from devkit.cases import SCENARIOS_DIR, load_cases
from devkit.gate import Gate, RecordingPeer
from devkit.net import free_port
from devkit.sipp import SippResult, run_scenario

pytestmark = pytest.mark.pbx

TENANT = load_cases()[0].tenant
"""The devkit endpoint's accountcode (``sipp-scenarios/index.toml``): the snippet's tenant."""
NOW = "2026-11-25T10:00:00+08:00"  # Wednesday, 10:00 in Beijing: inside calling hours
CALLER = "01062345678"
CALLEE = "13800138000"
CALLEE_E164 = "+8613800138000"
CALL_TIMEOUT_S = 30.0
US_DID = "+12025550143"
FOREIGN_CALLER = "+12125550100"


def _gate(
    asterisk: AsteriskContainer, workdir: Path, recording: RecordingPeer | None = None
) -> Gate:
    port = free_port()
    asterisk.set_global("DIALGUARD_AGI", f"agi://127.0.0.1:{port}")
    gate = Gate(workdir, port, now=NOW, recording=recording)
    gate.init()
    gate.add_number("+861062345678", tenant=TENANT, purpose="callback", number_type="call-centre")
    gate.add_consent(CALLEE_E164, tenant=TENANT, purpose="callback", evidence="crm-ticket-4711")
    return gate


def _call(asterisk: AsteriskContainer, scenario: Path, workdir: Path) -> SippResult:
    return run_scenario(
        scenario,
        port=asterisk.sip_port,
        service=CALLEE,
        keys={"caller": CALLER},
        timeout_s=CALL_TIMEOUT_S,
        workdir=workdir,
    )


def test_keypad_optout_denies_the_next_call(asterisk: AsteriskContainer, tmp_path: Path) -> None:
    gate = _gate(asterisk, tmp_path / "gate")
    with gate:
        first = _call(asterisk, SCENARIOS_DIR / "in_call/keypad_optout.xml", tmp_path / "call-1")
        second = _call(asterisk, SCENARIOS_DIR / "allowed/scenario.xml", tmp_path / "call-2")
    context = f"sipp: {first.errors[-1500:]}\n{asterisk.log_tail(30)}\n{gate.log_tail(15)}"
    # 200, then the PBX hung up on the key (the scenario waits for its BYE).
    assert (first.final_codes, first.exit_code) == ((200,), 0), context
    assert "opted out by keypad" in asterisk.log_tail(200), context
    assert second.final_codes == (403,), context

    assert_keypad_optout(gate, CALLEE, TENANT)


@pytest.mark.parametrize(
    ("verstat", "scenario", "sip", "verdict", "reason"),
    [
        ("TN-Validation-Failed", "refused", 403, "deny", "callerid.verification_failed"),
        ("TN-Validation-Passed", "allowed", 200, "allow", None),
    ],
)
def test_inbound_verstat_through_asterisk(
    asterisk: AsteriskContainer,
    tmp_path: Path,
    verstat: str,
    scenario: str,
    sip: int,
    verdict: str,
    reason: str | None,
) -> None:
    """The carrier's verstat in P-Asserted-Identity reaches the gate through the snippet; the
    US pack (the called DID is American) refuses a failed verification."""
    gate = _gate(asterisk, tmp_path / "gate")
    with gate:
        result = run_scenario(
            SCENARIOS_DIR / f"in_call/inbound_verstat_{scenario}.xml",
            port=asterisk.sip_port,
            service=US_DID,
            keys={"caller": FOREIGN_CALLER, "verstat": verstat},
            timeout_s=CALL_TIMEOUT_S,
            workdir=tmp_path / "call",
        )
    context = f"sipp: {result.errors[-1500:]}\n{asterisk.log_tail(30)}\n{gate.log_tail(15)}"
    assert (result.final_codes, result.exit_code) == ((sip,), 0), context
    (row,) = gate.decisions(callee=US_DID)
    codes = [r["code"] for r in row["reasons"]]
    assert (row["verdict"], row["direction"], codes[:1]) == (
        verdict,
        "inbound",
        [reason] if reason else [],
    ), row


NOTICE_S = 0.44
"""Asterisk's core ``beep`` (agi.notice_prompt's default): 22 GSM frames of 20 ms."""
INGEST_DEADLINE_S = 30.0
_BEGIN = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\].*Begin MixMonitor Recording", re.M
)


def _recording_began(log: str) -> float:
    """When MixMonitor's thread began writing the call's recording: the wall clock of its
    ``Begin MixMonitor Recording`` line (messages.log, UTC, as the rootfs keeps it)."""
    found = _BEGIN.findall(log)
    assert found, f"MixMonitor never began\n{log[-3000:]}"
    return datetime.strptime(found[-1], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


def _vault_entry(gate: Gate, decision_id: str, context: str) -> dict[str, Any]:
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while True:
        ours = [e for e in gate.recordings(callee=CALLEE) if e["decision_id"] == decision_id]
        if ours:
            return ours[0]
        assert time.monotonic() < deadline, f"nothing in the vault\n{context}\n{gate.log_tail()}"
        time.sleep(0.25)


def test_the_notice_plays_before_the_recording(asterisk: AsteriskContainer, tmp_path: Path) -> None:
    """CN requires the notice: the callee's side receives the notice's RTP after answer, the
    recording starts only once it has played, and the vault entry and the decision row both
    say ``notice: played``."""
    entry, decision, arrivals, context = _noticed_call(asterisk, tmp_path, "beep")
    assert (entry["notice"], entry["notice_prompt"]) == ("played", "beep"), entry
    assert (decision["notice"], decision["notice_prompt"]) == ("played", "beep"), decision
    report = asterisk.monitor_dir / f"{entry['name']}.notice"
    assert not report.exists(), "the notice report stayed behind"
    begun = _recording_began(asterisk.log_tail(400))
    before = [t for t in arrivals if t < begun]
    print(f"notice: {len(before)} RTP packets before the recording began, {len(arrivals)} in all")
    # The beep is 22 packets of 20 ms; a few may be lost to scheduling, none to the recording.
    assert len(before) >= 15, (len(before), len(arrivals), begun, context)
    assert before[-1] - before[0] >= NOTICE_S - 0.15, (before[0], before[-1], begun)


def test_a_notice_that_did_not_play_is_flagged(asterisk: AsteriskContainer, tmp_path: Path) -> None:
    """The operator's notice file is missing: the call is still recorded, and its vault entry
    and decision row say ``notice: missing``."""
    missing = ("missing", "custom/dialguard-no-such-notice")
    entry, decision, _, _ = _noticed_call(asterisk, tmp_path, missing[1])
    assert (entry["notice"], entry["notice_prompt"]) == missing, entry
    assert (decision["notice"], decision["notice_prompt"]) == missing, decision


def _noticed_call(
    asterisk: AsteriskContainer, tmp_path: Path, prompt: str
) -> tuple[dict[str, Any], dict[str, Any], list[float], str]:
    """One recorded call whose pack (CN) requires the notice, ``prompt`` as agi.notice_prompt;
    returns its vault entry, its decision row once the recording is ingested, when the
    notice's (and later) RTP reached the callee, and the logs for failure messages."""
    peer = RecordingPeer(
        asterisk.monitor_dir,
        asterisk.config.ami_port,
        asterisk.config.ami_username,
        asterisk.config.ami_secret,
    )
    gate = _gate(asterisk, tmp_path / "gate", recording=peer)
    gate.settings["DIALGUARD_AGI_NOTICE_PROMPT"] = prompt
    with gate, rtp_listener() as (rtp_port, arrivals):
        result = run_scenario(
            SCENARIOS_DIR / "in_call/recording_notice.xml",
            port=asterisk.sip_port,
            service=CALLEE,
            keys={"caller": CALLER, "rtp_port": str(rtp_port)},
            timeout_s=CALL_TIMEOUT_S,
            workdir=tmp_path / "call",
        )
        context = f"sipp: {result.errors[-1500:]}\n{asterisk.log_tail(30)}\n{gate.log_tail(15)}"
        assert (result.final_codes, result.exit_code) == ((200,), 0), context
        (decision,) = gate.decisions(callee=CALLEE)
        assert decision["notice"] in ("required", "played", "missing"), decision
        entry = _vault_entry(gate, decision["decision_id"], context)
        (decision,) = gate.decisions(callee=CALLEE)  # the ingest has settled its notice
        # The ingest commits the vault entry, then removes the spool file and the report beside
        # it: wait for that while the gate still runs (other tests' calls may leave theirs).
        report = asterisk.monitor_dir / f"{entry['name']}.notice"
        deadline = time.monotonic() + INGEST_DEADLINE_S
        while report.exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    return entry, decision, list(arrivals), context

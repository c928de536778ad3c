"""A burst through the real Asterisk: five SIPp calls to one consented callee started within a
millisecond or so, the real gate behind the shipped dialplan. China allows one call per 10
minutes: exactly one is answered, the others are refused (403), and the store holds exactly
one allowed decision."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from devkit.asterisk import AsteriskContainer
from devkit.gate import Gate, RecordingPeer
from devkit.net import free_port
from devkit.sipp import run_scenario

pytestmark = pytest.mark.pbx

SCENARIO = Path(__file__).resolve().parents[2] / "sipp-scenarios" / "burst" / "scenario.xml"
BURST = 5
NOW = "2026-11-25T11:00:00+08:00"


def test_a_burst_to_one_callee_is_answered_once(
    asterisk: AsteriskContainer, tmp_path: Path
) -> None:
    port = free_port()
    asterisk.set_global("DIALGUARD_AGI", f"agi://127.0.0.1:{port}")
    peer = RecordingPeer(
        asterisk.monitor_dir,
        asterisk.config.ami_port,
        asterisk.config.ami_username,
        asterisk.config.ami_secret,
    )
    gate = Gate(tmp_path / "gate", port, now=NOW, recording=peer)
    gate.init()
    gate.add_number("+861062345678", tenant="acme", purpose="callback")
    gate.add_consent("+8613800138000", tenant="acme", purpose="callback", evidence="crm-4711")
    with gate:
        result = run_scenario(
            SCENARIO,
            port=asterisk.sip_port,
            service="13800138000",
            keys={"caller": "01062345678"},
            calls=BURST,
            at_once=BURST,
            timeout_s=60,
            workdir=tmp_path / "sipp",
        )
    where = f"SIPp errors: {result.errors[-2000:]}\ngate log: {gate.log_tail()}"
    assert Counter(result.final_codes) == {200: 1, 403: BURST - 1}, where
    rows = gate.decisions(callee="+8613800138000")
    assert Counter(row["verdict"] for row in rows) == {"allow": 1, "deny": BURST - 1}
    denied = {row["reasons"][0]["code"] for row in rows if row["verdict"] == "deny"}
    assert denied == {"frequency.exceeded"}

"""In the call itself, through a real Asterisk running the shipped snippet and the real gate:
the callee's keypad opt-out (RFC 2833 DTMF from SIPp) lists them at once; the STIR/SHAKEN
verstat a carrier puts on an inbound caller ID reaches the policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devkit.asterisk import AsteriskContainer
from devkit.cases import SCENARIOS_DIR, load_cases
from devkit.gate import Gate
from devkit.net import free_port
from devkit.sipp import SippResult, run_scenario
from dialguard.ops.dnc import KEYPAD_SOURCE

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


def _gate(asterisk: AsteriskContainer, workdir: Path) -> Gate:
    port = free_port()
    asterisk.set_global("DIALGUARD_AGI", f"agi://127.0.0.1:{port}")
    gate = Gate(workdir, port, now=NOW)
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

    allowed, denied = gate.decisions(callee=CALLEE)[::-1]
    assert allowed["verdict"] == "allow", allowed
    assert denied["verdict"] == "deny", denied
    assert denied["reasons"][0]["code"] == "callee.dnc", denied

    entries = json.loads(gate.cli("audit", "tail", "-n", "50", "--json"))
    optouts = [e for e in entries if e["action"] == "dnc.optout"]
    assert len(optouts) == 1, entries
    detail = optouts[0]["detail"]
    assert detail["channel"] == KEYPAD_SOURCE, detail
    assert detail["decision_id"] == allowed["decision_id"], detail
    assert detail["after"]["source"] == KEYPAD_SOURCE, detail
    assert detail["after"]["tenant"] == TENANT, detail
    assert "13800138000" not in json.dumps(optouts[0]), optouts[0]


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

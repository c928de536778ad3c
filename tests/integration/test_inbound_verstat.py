"""STIR/SHAKEN on the inbound route: the verstat the snippet passes reaches the policy; the US
pack refuses a failed verification, packs that do not opt in ignore it."""

from __future__ import annotations

import pytest
from builders import asterisk_for

from dialguard.agi.attempt import attempt_from
from dialguard.agi.protocol import parse_header_block
from dialguard.agi.testing import header_block
from dialguard.app import GateApp
from dialguard.policy.model import Direction, Presentation

US_DID = "+12025550143"
CN_DID = "+861062345678"
FOREIGN_CALLER = "+12125550100"


def _inbound(did: str, verstat: str, *privacy: str) -> bytes:
    return header_block(
        "inbound", callerid=FOREIGN_CALLER, args=(did, "acme", "", "", verstat, *privacy)
    )


@pytest.mark.parametrize(
    ("did", "verstat", "verdict", "reasons"),
    [
        (US_DID, "TN-Validation-Failed", "DENY", "callerid.verification_failed"),
        (US_DID, "TN-Validation-Passed", "ALLOW", ""),
        (US_DID, "No-TN-Validation", "ALLOW", ""),
        (US_DID, "", "ALLOW", ""),
        (CN_DID, "TN-Validation-Failed", "ALLOW", ""),  # the cn pack does not opt in
    ],
)
async def test_verstat_on_the_inbound_route(
    optout_gate: GateApp,
    did: str,
    verstat: str,
    verdict: str,
    reasons: str,
) -> None:
    record = await asterisk_for(optout_gate).call(_inbound(did, verstat))
    assert record.variables["DIALGUARD_VERDICT"] == verdict
    assert record.variables["DIALGUARD_REASON"] == reasons


def test_only_the_three_verstat_values_are_taken() -> None:
    for value, expected in (
        ("TN-Validation-Failed", "TN-Validation-Failed"),
        ("tn-validation-failed", None),
        ("TN-Validation-Failed;x", None),
    ):
        request = parse_header_block(_inbound(US_DID, value))
        assert attempt_from(request, Direction.INBOUND, US_DID).verstat == expected, value


@pytest.mark.parametrize(
    ("args", "presentation"),
    [
        (("", "TN-Validation-Passed", "user"), Presentation.RESTRICTED),  # privacy after verstat
        (("", "", "none", "id"), Presentation.RESTRICTED),
        (("", "user"), Presentation.RESTRICTED),  # a snippet older than verstat: privacy at 5
        (("", "none"), Presentation.ALLOWED),
    ],
)
def test_privacy_still_read_with_and_without_the_verstat_argument(
    args: tuple[str, ...], presentation: Presentation
) -> None:
    block = header_block(args=("13800138000", "acme", "callback", *args))
    attempt = attempt_from(parse_header_block(block), Direction.OUTBOUND, "13800138000")
    assert attempt.presentation is presentation

"""The caller's SIP ``Privacy`` header (RFC 3323 §4.2, RFC 3325 §9.3), passed by the Asterisk
snippet as the last AGI arguments, becomes the hidden-caller fact."""

from __future__ import annotations

import pytest

from dialguard.agi.attempt import attempt_from, presentation_of, privacy_hides_caller
from dialguard.agi.protocol import parse_header_block
from dialguard.agi.testing import header_block
from dialguard.policy.model import Direction, Presentation


@pytest.mark.parametrize(
    ("value", "hides"),
    [
        ("", False),  # no Privacy header
        (",,", False),  # what the snippet passes when there is none: three empty instances
        ("none", False),
        ("NONE", False),
        ("session", False),  # media only
        ("critical", False),  # a modifier: asks for nothing by itself
        ("session;critical", False),
        (" none , none ", False),
        (";;", False),
        ("id", True),
        ("Id", True),
        ("user", True),
        ("header", True),
        ("HEADER", True),
        ("id;critical", True),
        ("user; session", True),
        ("none;id", True),  # contradictory: the hiding token wins
        ("none,user", True),  # a second header row
        ("none,,header", True),
        ("history", True),  # a token the gate does not know: fail closed
        ("id user", True),  # not separated as the grammar says: not "none" either
    ],
)
def test_privacy_tokens(value: str, hides: bool) -> None:
    assert privacy_hides_caller(value) is hides


BASE = ("13800138000", "acme", "callback")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), Presentation.ALLOWED),  # an older snippet passes no privacy at all
        (("",), Presentation.ALLOWED),
        (("", "", "", ""), Presentation.ALLOWED),
        (("", "none", "", ""), Presentation.ALLOWED),
        (("", "user", "", ""), Presentation.RESTRICTED),
        (("", "header", "", ""), Presentation.RESTRICTED),
        (("", "id", "", ""), Presentation.RESTRICTED),
        (("spring-offer", "none", "user", ""), Presentation.RESTRICTED),  # rows split by ','
        (("", "none", "", "id"), Presentation.RESTRICTED),  # the third row
        (("spring-offer", "session", "", ""), Presentation.ALLOWED),
    ],
)
def test_privacy_arguments_set_the_presentation(
    extra: tuple[str, ...], expected: Presentation
) -> None:
    request = parse_header_block(header_block(args=(*BASE, *extra)))
    assert presentation_of(request) is expected
    attempt = attempt_from(request, Direction.OUTBOUND, BASE[0])
    assert attempt.presentation is expected
    assert attempt.campaign == ((extra[0] or None) if extra else None)


def test_a_number_withheld_by_callingpres_stays_hidden_with_privacy_none() -> None:
    request = parse_header_block(header_block(args=(*BASE, "", "none"), callingpres=32))
    assert presentation_of(request) is Presentation.RESTRICTED

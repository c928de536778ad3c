"""Dial strings that look like, contain or reduce to an emergency number and are none: shared by
the policy, AGI and dialplan snippet tests (``tests/unit/test_emergency.py``)."""

from __future__ import annotations

HOSTILE = (
    "+110",
    "1-1-0",
    "110#",
    "*110",
    "x110",
    "+911",
    " 110",
    "110 ",
    "11 0",
    "(110)",
    "110.",
    "0110",
    "00110",
    "+86110",
    "8611O",
    "110110",
    "11",
    "1100",
    "\uff11\uff11\uff10",  # full-width digits: str.isdigit() is True for them
    "\u0661\u0661\u0660",  # Arabic-Indic digits
    "110\x00",
    "",
)

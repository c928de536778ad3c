"""AGI request → :class:`CallAttempt`: the only translation the routes do.

Arguments come from the dialplan:
``AGI(agi://host/<route>,<callee>,<tenant>,<purpose>[,<campaign>])``; an empty or missing
campaign means the call belongs to none.
"""

from __future__ import annotations

from ..policy.model import CallAttempt, Direction, Presentation
from .protocol import AgiRequest

AST_PRES_RESTRICTION = 0x60
"""Asterisk's restriction bits: 0x00 allowed, 0x20 restricted, 0x40 unavailable, 0x60 reserved."""
HIDDEN_NUMBERS = frozenset({"", "unknown", "anonymous", "restricted", "private", "unavailable"})
"""Caller numbers that present nothing (Asterisk sends ``unknown`` when none is set)."""


def presentation_of(request: AgiRequest) -> Presentation:
    """Anything the callee would not see as a number is RESTRICTED: restricted presentation, and
    also "unavailable" (``agi_callingpres`` 67), which Asterisk reports when no number is set."""
    if request.callingpres & AST_PRES_RESTRICTION:
        return Presentation.RESTRICTED
    if request.callerid.strip().lower() in HIDDEN_NUMBERS:
        return Presentation.RESTRICTED
    return Presentation.ALLOWED


def attempt_from(request: AgiRequest, direction: Direction, callee: str) -> CallAttempt:
    return CallAttempt(
        caller=request.callerid,
        callee=callee,
        tenant=request.arg(2) or request.accountcode or "default",
        purpose=request.arg(3) or "callback",
        presentation=presentation_of(request),
        direction=direction,
        campaign=request.arg(4) or None,
        call_id=request.uniqueid,
    )

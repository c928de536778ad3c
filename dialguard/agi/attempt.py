"""AGI request → :class:`CallAttempt`: the only translation the routes do.

Arguments come from the dialplan:
``AGI(agi://host/<route>,<callee>,<tenant>,<purpose>[,<campaign>[,<verstat>[,<privacy>…]]])``;
an empty or missing campaign means the call belongs to none; ``<verstat>`` is the caller ID's
STIR/SHAKEN verification status the snippet read (see :data:`VERSTAT_ARG`). ``<privacy>`` is
the caller's SIP ``Privacy`` header as the snippet reads it (``PJSIP_HEADER``); it comes last
because a comma in it splits it into further arguments, which are joined again here.
"""

from __future__ import annotations

import re

from ..gate.callers import HIDDEN_NUMBERS
from ..policy.model import VERSTATS, CallAttempt, Direction, Presentation
from .protocol import AgiRequest

AST_PRES_RESTRICTION = 0x60
"""Asterisk's restriction bits: 0x00 allowed, 0x20 restricted, 0x40 unavailable, 0x60 reserved."""


VERSTAT_ARG = 5
"""``agi_arg_5``: the caller ID's STIR/SHAKEN ``verstat`` (one of :data:`VERSTATS`) or empty."""
PRIVACY_ARG = 6
"""``agi_arg_6`` and after: the caller's ``Privacy`` header (see the module docstring). A
snippet older than the verstat argument passes Privacy from ``agi_arg_5``: an ``agi_arg_5``
that is neither empty nor a verstat is read that way, so such a snippet never loses Privacy."""
NOT_HIDING = frozenset({"none", "session", "critical"})
"""RFC 3323 §4.2 ``priv-value``s that do not withhold the caller's identity: ``none`` asks for
no privacy, ``session`` only for the media to be anonymised, ``critical`` only says the others
are mandatory. ``id`` (RFC 3325: withhold the asserted identity), ``user`` (anonymise the
user-level headers, From included) and ``header`` (strip or anonymise the headers that identify
the caller) all hide the number, and so does any other token: a privacy service the gate does
not know is taken to hide it (fail closed), as Asterisk takes anything but ``none``."""
_PRIV_SEPARATORS = re.compile(r"[;,]")


def privacy_hides_caller(value: str) -> bool:
    """True when a SIP ``Privacy`` value withholds the caller's number. ``priv-value *(";"
    priv-value)``; several header rows are joined by commas; tokens are case-insensitive and
    empty ones ignored, so ``""`` (no header) hides nothing. A hiding token wins over ``none``."""
    tokens = {token.strip().lower() for token in _PRIV_SEPARATORS.split(value)}
    return bool(tokens - NOT_HIDING - {""})


def verstat_of(request: AgiRequest) -> str | None:
    value = request.arg(VERSTAT_ARG)
    return value if value in VERSTATS else None


def _privacy_from(request: AgiRequest) -> int:
    value = request.arg(VERSTAT_ARG)
    return PRIVACY_ARG if not value or value in VERSTATS else VERSTAT_ARG


def presentation_of(request: AgiRequest) -> Presentation:
    """Anything the callee would not see as a number is RESTRICTED: restricted presentation,
    "unavailable" (``agi_callingpres`` 67), which Asterisk reports when no number is set, and a
    ``Privacy`` header that hides the caller (:func:`privacy_hides_caller`), which Asterisk
    itself only honours with a trusted P-Asserted-Identity."""
    if request.callingpres & AST_PRES_RESTRICTION:
        return Presentation.RESTRICTED
    if privacy_hides_caller(",".join(request.args[_privacy_from(request) - 1 :])):
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
        verstat=verstat_of(request),
    )

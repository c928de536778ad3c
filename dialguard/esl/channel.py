"""The channel's headers (``uuid_dump``) → :class:`CallAttempt`: the only translation done.

Header names are FreeSWITCH's (``switch_channel_event_set_data``): the caller profile as
``Caller-*``, every channel variable as ``variable_<name>``. The dialplan passes tenant, purpose
and (optionally) campaign as the channel variables ``dialguard_tenant``, ``dialguard_purpose``
and ``dialguard_campaign``; ``dialguard_direction=inbound`` (the ``dialguard_inbound``
context) makes the call an inbound one, whose caller ID the policy screens (e.g. one of our
own numbers).

Caller-ID trust rule: the gate checks the number FreeSWITCH will present on the bridged leg, i.e.
``effective_caller_id_number`` when the dialplan set one, else the caller profile's number —
which mod_sofia takes from P-Asserted-Identity (or Remote-Party-ID) when the INVITE carries
one, and from the From user otherwise. The SIP From user is used only when both are empty. So a
PAI is trusted exactly as far as FreeSWITCH trusts it: accept PAI only from your own phones and
trunks (sofia ACLs), as the number it carries is the one sent on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..gate.callers import HIDDEN_NUMBERS
from ..policy.model import VERSTATS, CallAttempt, Direction, Presentation
from .commands import DIAL_STRING

FS_HIDDEN_NUMBERS = HIDDEN_NUMBERS | {"0000000000"}
"""FreeSWITCH presents ``0000000000`` when a channel has no caller number."""
HIDING_PRIVACY = frozenset({"id", "user", "header"})
"""RFC 3323/3325 ``Privacy`` values that withhold the caller's identity (``none`` does not;
``session`` and ``critical`` are about media and handling, not identity)."""
PRIVACY_HEADERS = ("variable_sip_Privacy", "variable_sip_h_Privacy")
"""Where FreeSWITCH 1.11 puts an INVITE's ``Privacy`` header (``sip_Privacy``), and where an
operator's dialplan or a B2BUA in front may have put one (``sip_h_Privacy``): both are read."""
TRUE = frozenset({"true", "yes", "on", "1"})
INBOUND = "inbound"
"""``dialguard_direction`` of the ``dialguard_inbound`` context."""
_PRIVACY_SEPARATORS = re.compile(r"[;,\s]+")


class ChannelDataError(ValueError):
    """The channel headers cannot describe a call we could gate; the call is denied."""


@dataclass(frozen=True, slots=True)
class Channel:
    uniqueid: str
    attempt: CallAttempt
    answered: bool = False
    """Already answered when it reached the gate (a recording then starts at once)."""


def _first(headers: Mapping[str, str], *keys: str) -> str:
    for key in keys:
        value = headers.get(key, "").strip()
        if value and value != "_undef_":  # how switch_event_serialize writes ""
            return value
    return ""


def privacy_tokens(value: str) -> frozenset[str]:
    """RFC 3323 ``priv-value *(";" priv-value)``, lower-cased; commas and blanks are accepted
    as separators too (some stacks send ``id, header``)."""
    return frozenset(t for t in _PRIVACY_SEPARATORS.split(value.strip().lower()) if t)


def presentation_of(headers: Mapping[str, str], caller: str) -> Presentation:
    """RESTRICTED when anything would keep the number from the callee: the caller profile's
    hide-number flag, a SIP ``Privacy`` header that hides identity, ``origination_privacy`` with
    ``hide_number`` (what ``bridge`` applies to the outgoing leg), or no usable number at all.
    ``Caller-Screen-Bit`` says whether the number was screened, not whether it is shown."""
    if headers.get("Caller-Privacy-Hide-Number", "").lower() in TRUE:
        return Presentation.RESTRICTED
    if any(privacy_tokens(headers.get(name, "")) & HIDING_PRIVACY for name in PRIVACY_HEADERS):
        return Presentation.RESTRICTED
    if "hide_number" in headers.get("variable_origination_privacy", "").lower():
        return Presentation.RESTRICTED
    if caller.lower() in FS_HIDDEN_NUMBERS:
        return Presentation.RESTRICTED
    return Presentation.ALLOWED


def direction_of(headers: Mapping[str, str]) -> Direction:
    """``dialguard_direction=inbound`` (the snippet's ``dialguard_inbound`` context) screens a call
    from the carrier (its caller ID, its verstat); anything else is gated as an outbound call."""
    if _first(headers, "variable_dialguard_direction").lower() == INBOUND:
        return Direction.INBOUND
    return Direction.OUTBOUND


def _verstat(headers: Mapping[str, str]) -> str | None:
    """``sip_verstat`` as ``sofia_stir_shaken_vs`` sets it after checking the Identity header,
    else the dialplan's ``dialguard_verstat`` (e.g. the carrier's verstat parameter); only the
    three verstat values count."""
    value = _first(headers, "variable_sip_verstat", "variable_dialguard_verstat")
    return value if value in VERSTATS else None


def channel_from(headers: Mapping[str, str]) -> Channel:
    """The presented number is ``effective_caller_id_number`` when the dialplan set one (that is
    what ``bridge`` sends), else the caller profile's number, else the SIP From user."""
    uniqueid = _first(headers, "Unique-ID")
    if not uniqueid:
        raise ChannelDataError("no Unique-ID in the channel data")
    callee = _first(headers, "Caller-Destination-Number")
    if not DIAL_STRING.fullmatch(callee):
        raise ChannelDataError("destination number missing or not a dialable token")
    caller = _first(
        headers,
        "variable_effective_caller_id_number",
        "Caller-Caller-ID-Number",
        "variable_sip_from_user",
    )
    attempt = CallAttempt(
        caller=caller,
        callee=callee,
        tenant=_first(headers, "variable_dialguard_tenant", "variable_accountcode") or "default",
        purpose=_first(headers, "variable_dialguard_purpose") or "callback",
        presentation=presentation_of(headers, caller),
        direction=direction_of(headers),
        campaign=_first(headers, "variable_dialguard_campaign") or None,
        call_id=uniqueid[:128],
        verstat=_verstat(headers),
    )
    answered = _first(headers, "Answer-State").lower() == "answered"
    return Channel(uniqueid[:128], attempt, answered)

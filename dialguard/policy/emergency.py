"""The one definition of an emergency number, used by the policy, every transport and the
dialplan snippets ``dialguard dialplan`` prints.

A call is an emergency call when the dialled text *is* one of the pack's ``emergency.numbers``,
or one of its ``emergency.prefixes`` (a national/trunk prefix the pack names) followed by one of
them: an exact string comparison. Nothing is stripped or normalised first: ``+110``, ``1-1-0``,
``110#``, ``*110``, ``x110``, ``+911`` or `` 110`` are ordinary calls that every rule checks
(they do not even parse as numbers, so they are denied as ``callee.invalid``). Anything looser
would let a crafted dial string skip do-not-call, quiet hours, caps and consent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .pack import RulePack

DIGITS = re.compile(r"[0-9]{1,15}")
"""What an emergency number or a prefix in a pack may be: digits only."""


def dialled_forms(numbers: Iterable[str], prefixes: Iterable[str] = ()) -> tuple[str, ...]:
    """Every exact dialled string that is an emergency call, sorted."""
    bare = set(numbers)
    return tuple(sorted(bare | {p + n for p in prefixes for n in bare}))


def emergency_forms(pack: RulePack) -> tuple[str, ...]:
    """The pack's emergency dial strings: its numbers, and each behind each of its prefixes."""
    return dialled_forms(pack.emergency_numbers, pack.emergency_prefixes)


def is_emergency(dialled: str, pack: RulePack) -> bool:
    """Whether ``dialled`` (as the PBX or the client sent it) is one of the pack's emergency
    dial strings, exactly."""
    if dialled in pack.emergency_numbers:
        return True
    return any(
        dialled.startswith(p) and dialled[len(p) :] in pack.emergency_numbers
        for p in pack.emergency_prefixes
    )


def regex_of(forms: Iterable[str]) -> str:
    """An anchored regular expression matching exactly ``forms`` (digits only, so no escaping):
    what the Asterisk snippet's ``REGEX()`` and a FreeSWITCH condition use."""
    listed = sorted(forms)
    if not listed or not all(DIGITS.fullmatch(f) for f in listed):
        raise ValueError(f"emergency dial strings must be digits: {listed!r}")
    return "^(" + "|".join(listed) + ")$"

"""Finding a phone number in stored text in any spelling: what the chain scans use.

Three independent nets, so that a gap in one (or in the masker, which shares none of this code
but ``phonenumbers``) is caught by another: every spelling generated from the number, as a
substring; the digits of every digit run (any separators, full-width digits folded) containing
the number's national digits; and ``phonenumbers.PhoneNumberMatcher`` at its most lenient.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat

_RUN = re.compile(r"[+(\uff0b\uff08]?\d(?:[^\w\n]{0,3}\d)*", re.UNICODE)


def spellings(e164: str) -> list[str]:
    """``e164`` as people write it: phonenumbers' formats and the usual groupings."""
    parsed = phonenumbers.parse(e164, None)
    national = str(parsed.national_number)
    cc = str(parsed.country_code)
    grouped = [national[:3], national[3:7], national[7:]]
    return [
        e164,
        e164[1:],
        national,
        *(
            phonenumbers.format_number(parsed, f)
            for f in (
                PhoneNumberFormat.INTERNATIONAL,
                PhoneNumberFormat.NATIONAL,
                PhoneNumberFormat.RFC3966,
            )
        ),
        " ".join(grouped),
        "-".join(grouped),
        ".".join(grouped),
        f"+{cc} " + " ".join(grouped),
        f"+{cc}-" + "-".join(grouped),
        f"00{cc}{national}",
        f"({national[:3]}) {national[3:7]}-{national[7:]}",
        national.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
    ]


def _digits(text: str) -> str:
    return "".join(str(unicodedata.digit(ch)) for ch in text if ch.isdigit())


def found_in(text: str, e164: str) -> list[str]:
    """How ``e164`` can be read in ``text``; empty when it cannot."""
    national = str(phonenumbers.parse(e164, None).national_number)
    hits = [f"spelling {s!r}" for s in spellings(e164) if s in text]
    hits += [f"digits {m.group()!r}" for m in _RUN.finditer(text) if national in _digits(m.group())]
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=Leniency.POSSIBLE):
        if phonenumbers.format_number(match.number, PhoneNumberFormat.E164) == e164:
            hits.append(f"matcher {match.raw_string!r}")
    return hits


def leaks(entries: Iterable[Any], numbers: Iterable[str]) -> list[str]:
    """Every audit entry (subject and detail) where one of ``numbers`` can be read."""
    wanted = list(numbers)
    found: list[str] = []
    for entry in entries:
        text = entry.subject + " " + json.dumps(entry.detail, ensure_ascii=False)
        for number in wanted:
            for hit in found_in(text, number):
                found.append(f"#{entry.seq} {entry.action}: {number} as {hit}")
    return found

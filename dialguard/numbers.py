"""Phone numbers: one canonical form (E.164) for every table and every check, and masking for logs.

Parsing with ``phonenumbers`` costs tens of microseconds; gate traffic repeats the same callers
and callees, so results are memoised per (text, region), and the lookups on an E.164 number (time
zones, region, place, masking) share one parse of it (:func:`_parsed`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder as pn_geocoder
from phonenumbers import timezone as pn_timezone

_UNKNOWN_ZONE = "Etc/Unknown"
_MAX_INPUT = 40
_ALLOWED = re.compile(r"^[0-9+()\-. /]+$")


class InvalidNumber(ValueError):
    """A number that is not a valid phone number; the message names the number and why."""

    def __init__(self, raw: str, why: str) -> None:
        self.raw = raw
        self.why = why
        super().__init__(f"invalid phone number {raw!r}: {why}")


@lru_cache(maxsize=200_000)
def normalize(raw: str, default_region: str = "CN") -> str:
    """Return the E.164 form of ``raw``, or raise :class:`InvalidNumber` naming it.

    Accepts national (``13800138000``), international with ``+`` or with the ``00`` prefix
    (``008613800138000``) and formatted (``+86 138 0013 8000``) input.
    """
    text = raw.strip()
    if not text:
        raise InvalidNumber(raw, "empty")
    if len(text) > _MAX_INPUT or not _ALLOWED.match(text):
        raise InvalidNumber(raw, "contains characters that are not part of a phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(raw, str(exc.args[0]) if exc.args else "unparseable") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(raw, f"not a valid number (default region {default_region})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize(raw: str, default_region: str = "CN") -> str | None:
    try:
        return normalize(raw, default_region)
    except InvalidNumber:
        return None


@lru_cache(maxsize=50_000)
def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    """The parse of an E.164 number, shared by the lookups below (never mutate it)."""
    return phonenumbers.parse(e164, None)


@lru_cache(maxsize=200_000)
def time_zones(e164: str) -> tuple[str, ...]:
    """Every IANA zone the number may be in; empty when phonenumbers knows none."""
    zones = pn_timezone.time_zones_for_number(_parsed(e164))
    return tuple(z for z in zones if z != _UNKNOWN_ZONE)


@lru_cache(maxsize=200_000)
def region_of(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(_parsed(e164))


@lru_cache(maxsize=200_000)
def place_of(e164: str) -> str:
    """Where the number is, in English, as finely as phonenumbers knows: a state (``Florida``), a
    city and state (``New York, NY``), or empty. Rule packs map it to their subdivisions."""
    return str(pn_geocoder.description_for_number(_parsed(e164), "en"))


def digits_only(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


_COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _country_code_length(e164: str) -> int:
    """Country codes are a prefix code (no code begins another), so the first one to three digits
    that are a code are the code: a set lookup where a parse costs ~15 µs (masking runs for every
    number of every logged call)."""
    for length in (1, 2, 3):
        if e164[1 : 1 + length] in _COUNTRY_CODES:
            return length
    return 0


def mask(number: str) -> str:
    """``+8613800138000`` → ``+86 138****8000``; ``13800138000`` → ``138****8000``.

    Short numbers (emergency codes, extensions) are not personal data and stay as they are.
    """
    prefix = ""
    national = number
    if number.startswith("+"):
        cc_len = _country_code_length(number)
        prefix = number[: 1 + cc_len] + " "
        national = number[1 + cc_len :]
    if len(national) < 7:
        return number
    return f"{prefix}{national[:3]}****{national[-4:]}"


_DIGIT_RUN = re.compile(r"(?<![\w.+])\+?\d{7,15}(?![\w.])")


def mask_text(text: str) -> str:
    """Mask every standalone run of 7–15 digits (optionally ``+``-prefixed) inside free text.

    Runs glued to letters or dots (ids, hashes, decimals) are left alone.
    """
    return _DIGIT_RUN.sub(lambda match: mask(match.group(0)), text)

"""Phone numbers: one canonical form (E.164) for every table and every check, and masking for logs.

Parsing with ``phonenumbers`` is pure Python and costs a noticeable share of a call
(``docs/developers/performance.md``); gate traffic repeats the same callers and callees, so
results are memoised per (text, region), and the lookups on an E.164 number (time zones, region,
place, masking) share one parse of it (:func:`_parsed`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

import phonenumbers
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
    city and state (``New York, NY``), or empty. Rule packs map it to their subdivisions.

    The geocoder is imported here, on first use: loading its data costs about a third of a second,
    and only packs with subdivisions (US states) need it, never ``dialguard --help`` or a CN call.
    """
    from phonenumbers import geocoder

    return str(geocoder.description_for_number(_parsed(e164), "en"))


def load_geocoder() -> None:
    """Load :func:`place_of`'s data now (blocking: run it in a thread at start), so that the
    first call to a number of a pack with subdivisions does not spend its decision budget on it
    (measured 0.8-0.9 s on the test machine, against ``budget_ms`` 1500)."""
    place_of("+12025550143")


_COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _country_code_length(e164: str) -> int:
    """Country codes are a prefix code (no code begins another), so the first one to three digits
    that are a code are the code: a set lookup instead of a parse (masking runs for every number
    of every logged call)."""
    for length in (1, 2, 3):
        if e164[1 : 1 + length] in _COUNTRY_CODES:
            return length
    return 0


def mask(number: str) -> str:
    """``+8613800138000`` → ``+86 138****8000``; ``13800138000`` → ``138****8000``.

    At most three leading and four trailing digits stay, and never more than all but four, so a
    short number does not come out whole (``1058001234`` → ``105****234``). Short numbers
    (emergency codes, extensions) are not personal data and stay as they are.
    """
    prefix = ""
    national = number
    if number.startswith("+"):
        cc_len = _country_code_length(number)
        prefix = number[: 1 + cc_len] + " "
        national = number[1 + cc_len :]
    if len(national) < 7:
        return number
    shown = min(7, len(national) - 4)
    head = min(3, shown // 2)
    return f"{prefix}{national[:head]}****{national[len(national) - (shown - head) :]}"


_SEPARATOR = r"[ \t\u00a0\u3000\-\u2010-\u2015\u2212./()\uff08\uff09]"
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9_])[+\uff0b(\uff08]?\d(?>(?:" + _SEPARATOR + r"{0,3}\d){6,})(?![A-Za-z0-9_])"
)
"""Seven or more digits, possibly spaced, dashed, dotted or bracketed, not glued to a Latin
letter, digit or underscore (ids and hashes): what might be a phone number, found by one C-speed
search so that text without one costs next to nothing. (Atomic: a run glued to a letter is not
shortened into a candidate.)"""
_RUN = re.compile(r"(?<![0-9])(?<![0-9][.,])[0-9]{7,15}(?![0-9])")
"""A run of digits in a punctuated candidate, not the fraction of a decimal number."""
_ASTERISK_UNIQUEID = re.compile(r"[0-9]{9,10}\.[0-9]{1,6}")
"""``1754470000.7``: a channel's epoch and sequence, which can read as a valid number."""
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_CONTEXT = 8
"""Characters either side of a candidate the matcher sees (letters glued on, a time's ``:30``)."""

Span = tuple[int, int, str]


def mask_text(text: str, region: str = "CN", keep: Collection[str] = ()) -> str:
    """Mask every phone number in free text: wherever ``phonenumbers`` finds one in text
    (``139 0013 9032``, ``139-0013-9032``, ``+86 (139) 0013-9032``, full-width digits…), and every
    run of 7–15 digits not glued to a Latin letter even when it is no valid number
    (``8613800138000``). Left alone: numbers in ``keep`` (E.164: our own registered access
    numbers), UUIDs, Asterisk channel ids (``1754470000.7``), dates and times.

    Cost: one regular-expression search when there is nothing like a number; a plain run of
    digits is masked without a parse; only spaced or punctuated candidates go through
    ``phonenumbers.PhoneNumberMatcher`` (default leniency), on a short window around each, whose
    date and time-stamp rules keep ``2026-11-25 10:00`` as it is.
    """
    spans: list[Span] = []
    punctuated: list[tuple[int, int]] = []
    for candidate in _CANDIDATE.finditer(text):
        start, end = candidate.span()
        raw = candidate.group()
        if _in_uuid(text, start, end, raw):
            continue
        if _is_bare(raw):
            e164 = try_normalize(raw, region) if keep else None
            if e164 is None or e164 not in keep:
                spans.append((start, end, mask(raw)))
        elif "." not in raw or not _ASTERISK_UNIQUEID.fullmatch(raw):
            punctuated.append((start, end))
    if punctuated:
        spans += _punctuated(text, punctuated, region, keep)
        spans.sort()
    return _replaced(text, spans) if spans else text


def _is_bare(raw: str) -> bool:
    """7–15 ASCII digits, perhaps after a ``+`` (cheaper than a regular expression here)."""
    digits = raw[1:] if raw[0] == "+" else raw
    return 7 <= len(digits) <= 15 and digits.isascii() and digits.isdigit()


def _in_uuid(text: str, start: int, end: int, raw: str) -> bool:
    """Whether the candidate at ``start:end`` is (part of) a UUID: it has or borders a dash."""
    if "-" not in raw and text[start - 1 : start] != "-" and text[end : end + 1] != "-":
        return False
    around = _UUID.finditer(text, max(0, start - 36), min(len(text), end + 36))
    return any(m.start() < end and start < m.end() for m in around)


def _punctuated(
    text: str, candidates: list[tuple[int, int]], region: str, keep: Collection[str]
) -> list[Span]:
    """Spans to mask among spaced or punctuated candidates: what the matcher finds (in windows
    around them, merged), then any run of 7–15 digits inside a candidate that no match covers."""
    windows: list[list[int]] = []
    for start, end in candidates:
        low, high = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = high
        else:
            windows.append([low, high])
    found: list[Span] = []
    covered: list[tuple[int, int]] = []
    for low, high in windows:
        for start, end, e164 in _matches(text[low:high], region):
            covered.append((low + start, low + end))
            if e164 not in keep:
                found.append((low + start, low + end, mask(e164)))
    for start, end in candidates:
        for run in _RUN.finditer(text, start, end):
            if not any(a < run.end() and run.start() < b for a, b in covered):
                found.append((run.start(), run.end(), mask(run.group())))
    return found


@lru_cache(maxsize=4096)
def _matches(window: str, region: str) -> tuple[tuple[int, int, str], ...]:
    """Where ``phonenumbers`` finds numbers in ``window``, with each one's E.164 form (the same
    log lines and reasons recur, and matching costs far more than a parse)."""
    return tuple(
        (m.start, m.end, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
        for m in phonenumbers.PhoneNumberMatcher(window, region)
    )


def _replaced(text: str, spans: list[Span]) -> str:
    """``text`` with each span (in order) replaced; a span overlapping an earlier one is
    dropped."""
    pieces: list[str] = []
    at = 0
    for start, end, replacement in spans:
        if start < at:
            continue
        pieces.append(text[at:start])
        pieces.append(replacement)
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


def region_zone(region: str) -> str | None:
    """The IANA zone of ``region``'s example number (CN: Asia/Shanghai, US: America/New_York);
    None when phonenumbers knows none."""
    example = phonenumbers.example_number(region.upper())
    if example is None:
        return None
    zones = [z for z in pn_timezone.time_zones_for_number(example) if z != _UNKNOWN_ZONE]
    return zones[0] if zones else None

"""Numbers as the regulator allocates them: E.164 numbers, and a country's non-geographic access
codes by class (China: 95xxx/96xxx/12xxx service codes, 100xx carrier codes, 106 SMS and
marketing ports, 400/800), each class a pattern with its source, read from the jurisdiction
pack's ``[numbering]`` table (data, not code).

One canonical form for all of them: ``+<country code><national digits>`` (``+8695555``,
``+8610658001``, ``+864001234567``), so a class number is stored, matched and masked like any
other E.164 string; however a PBX presents it (``95555``, ``+8695555``, ``008695555``,
``8695555``, a trunk ``0`` in front) the gate looks up that one form. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers

from ..numbers import InvalidNumber, normalize
from .model import NumberType

_SEPARATORS = re.compile(r"[ \t\-.()/]")


@dataclass(frozen=True)
class NumberClass:
    """One class of access code: its digits (national, no prefix) match ``pattern``."""

    name: str
    pattern: re.Pattern[str]
    source: str
    description: str
    number_types: frozenset[NumberType]
    """The filing types a number of this class may be registered as; the first listed in the
    pack is the default (``default_type``)."""
    default_type: NumberType


@dataclass(frozen=True)
class NumberingPlan:
    """A country's access-code classes and the prefixes its PBXs may put in front of them."""

    country_code: str
    region: str
    prefixes: tuple[str, ...]
    """Tried in order before the digits are matched: international (``+86``, ``0086``, ``86``)
    and trunk (``0``) prefixes."""
    classes: tuple[NumberClass, ...]

    def classify(self, national: str) -> NumberClass | None:
        """The first class whose pattern matches all of ``national`` (digits only)."""
        for number_class in self.classes:
            if number_class.pattern.fullmatch(national):
                return number_class
        return None


@dataclass(frozen=True)
class Classified:
    number: str
    """The canonical form (E.164 string)."""
    number_class: NumberClass | None
    """The access-code class it belongs to; None for an ordinary (geographic, mobile) number."""

    @property
    def class_name(self) -> str:
        return self.number_class.name if self.number_class else "e164"


class Numbering:
    """Every plan of the book; :meth:`canonical` is what the registry and the gate call."""

    def __init__(self, plans: Iterable[NumberingPlan]) -> None:
        self.plans = {plan.region: plan for plan in plans}
        self._by_code = {plan.country_code: plan for plan in self.plans.values()}

    def canonical(self, raw: str, default_region: str = "CN") -> Classified:
        """``raw`` in its one canonical form, with its class; :class:`InvalidNumber` naming it
        when it is neither a valid number nor a code of a known class."""
        return _canonical(self, raw, default_region)

    def try_canonical(self, raw: str, default_region: str = "CN") -> str | None:
        try:
            return _canonical(self, raw, default_region).number
        except InvalidNumber:
            return None

    def class_of(self, e164: str) -> NumberClass | None:
        """The class of a canonical number, if its country has a plan and a class matches."""
        for code, plan in self._by_code.items():
            if e164.startswith("+" + code):
                return plan.classify(e164[1 + len(code) :])
        return None


@lru_cache(maxsize=100_000)
def _canonical(numbering: Numbering, raw: str, default_region: str) -> Classified:
    try:
        e164 = normalize(raw, default_region)
    except InvalidNumber:
        found = _access_code(numbering, raw, default_region)
        if found is None:
            raise
        return found
    if _geographic(e164):
        return Classified(e164, None)
    return Classified(e164, numbering.class_of(e164))


_GEOGRAPHIC = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


def _geographic(e164: str) -> bool:
    """A landline or mobile number: never a class number, even when its digits look like one
    (Beijing's ``010 6501 2345`` is ``+861065012345``, which a 106 port would also be)."""
    return phonenumbers.number_type(phonenumbers.parse(e164, None)) in _GEOGRAPHIC


def _access_code(numbering: Numbering, raw: str, default_region: str) -> Classified | None:
    text = _SEPARATORS.sub("", raw.strip())
    plans = [numbering.plans[default_region]] if default_region in numbering.plans else []
    plans += [p for p in numbering.plans.values() if p.region != default_region]
    for plan in plans:
        if plan.region != default_region and not text.startswith(("+", "00")):
            continue
        for prefix in ("", *plan.prefixes):
            if not text.startswith(prefix):
                continue
            rest = text[len(prefix) :]
            if not rest.isascii() or not rest.isdigit():
                continue
            number_class = plan.classify(rest)
            if number_class is not None:
                return Classified(f"+{plan.country_code}{rest}", number_class)
    return None


class NumberingError(ValueError):
    """A ``[numbering]`` table that cannot be used; names the pack and the key."""


def parse_plan(table: Mapping[str, Any], origin: str) -> NumberingPlan:
    """The ``[numbering]`` table of a jurisdiction pack."""

    def need(key: str, kind: type, where: Mapping[str, Any], at: str) -> Any:
        value = where.get(key)
        if not isinstance(value, kind) or (kind is str and not value):
            raise NumberingError(f"{origin}: {at}{key} is missing or not a {kind.__name__}")
        return value

    code = need("country_code", str, table, "numbering.")
    if not code.isdigit():
        raise NumberingError(f"{origin}: numbering.country_code must be digits, got {code!r}")
    prefixes = need("prefixes", list, table, "numbering.")
    if not all(isinstance(p, str) and p for p in prefixes):
        raise NumberingError(f"{origin}: numbering.prefixes must be non-empty strings")
    classes = []
    for index, entry in enumerate(need("classes", list, table, "numbering.")):
        at = f"numbering.classes[{index}]."
        if not isinstance(entry, Mapping):
            raise NumberingError(f"{origin}: {at[:-1]} must be a table")
        try:
            pattern = re.compile(need("pattern", str, entry, at))
        except re.error as exc:
            raise NumberingError(f"{origin}: {at}pattern: {exc}") from None
        kinds = need("number_types", list, entry, at)
        try:
            types = [NumberType(k) for k in kinds]
        except ValueError:
            raise NumberingError(f"{origin}: {at}number_types: {kinds!r}") from None
        if not types:
            raise NumberingError(f"{origin}: {at}number_types must not be empty")
        classes.append(
            NumberClass(
                name=need("name", str, entry, at),
                pattern=pattern,
                source=need("source", str, entry, at),
                description=need("description", str, entry, at),
                number_types=frozenset(types),
                default_type=types[0],
            )
        )
    return NumberingPlan(
        code, need("region", str, table, "numbering."), tuple(prefixes), tuple(classes)
    )

"""Declared inputs: one definition per field gives both its OpenAPI schema and its parser.

Bodies and query strings are read through these, so the document at ``/v1/openapi.json`` cannot
drift from what the handlers accept, and every rejection is a 400 naming the field.
"""

from __future__ import annotations

import abc
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from aiohttp import web

from ..clock import ClockError, parse_instant
from ..numbers import InvalidNumber, normalize
from .errors import ApiError

_PHONE_PATTERN = r"^[0-9+()\-. /]{1,40}$"
_NO_CONTROLS = "^[^\u0000-\u001f\u007f-\u009f]*$"
MAX_JSON_DEPTH = 8
"""Deepest nesting a request body may have: every declared field is a scalar or a list of them."""


@dataclass(frozen=True)
class Reading:
    """How input is read: numbers without a country code in ``region``, times without an offset
    in ``zone`` (the operator's, ``display.timezone``)."""

    region: str
    zone: tzinfo = UTC


@dataclass(frozen=True)
class Kind(abc.ABC):
    """How one value is written (``schema``) and read (:meth:`parse`)."""

    schema: Mapping[str, Any]

    @abc.abstractmethod
    def parse(self, name: str, value: Any, reading: Reading) -> Any:
        """The value to hand to the handler, or an :class:`ApiError` (400) naming ``name``."""


def storable(name: str, value: str, *, controls: bool = False) -> str:
    """``value`` if every character can be stored and logged as text: no unpaired surrogate
    (JSON lets ``"\\ud800"`` through; UTF-8 cannot encode it), no NUL (PostgreSQL refuses it),
    and unless ``controls`` no other control character either (names and reasons are one line)."""
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cs" or char == "\x00" or (category == "Cc" and not controls):
            raise invalid(name, f"must not contain the character {char!r} (at {position})")
    return value


@dataclass(frozen=True)
class Text(Kind):
    """Free text on one line, stripped; blank is treated as invalid rather than as absent."""

    def parse(self, name: str, value: Any, reading: Reading) -> Any:
        longest = self.schema.get("maxLength", 200)
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        if not value.strip() or len(value) > longest:
            raise invalid(name, f"must be 1–{longest} characters, not blank")
        return storable(name, value.strip())


def text(max_length: int = 200) -> Text:
    return Text(
        {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": _NO_CONTROLS}
    )


@dataclass(frozen=True)
class Phone(Text):
    """A phone number as dialled; parsed to E.164 with the default region."""

    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "string",
            "pattern": _PHONE_PATTERN,
            "maxLength": 40,
            "examples": ["+8613800138000"],
        }
    )

    def parse(self, name: str, value: Any, reading: Reading) -> Any:
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        try:
            return normalize(value, reading.region)
        except InvalidNumber as exc:
            raise ApiError(400, "invalid_number", f"{name}: {exc}", name) from None


@dataclass(frozen=True)
class RawPhone(Text):
    """A phone number kept as dialled (the check keeps raw text like ``dialguard check``)."""

    schema: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "string", "pattern": _PHONE_PATTERN, "maxLength": 40}
    )


@dataclass(frozen=True)
class Choice(Kind):
    def parse(self, name: str, value: Any, reading: Reading) -> Any:
        allowed = self.schema["enum"]
        if value not in allowed:
            raise invalid(name, f"must be one of {', '.join(allowed)}")
        return value


def choice(values: Sequence[str]) -> Choice:
    return Choice({"type": "string", "enum": list(values)})


@dataclass(frozen=True)
class Instant(Kind):
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "string", "format": "date-time"}
    )

    def parse(self, name: str, value: Any, reading: Reading) -> datetime:
        if not isinstance(value, str):
            raise invalid(name, "must be an ISO 8601 date/time string")
        try:
            return parse_instant(value, name, reading.zone)
        except ClockError as exc:
            raise invalid(name, str(exc)) from None


@dataclass(frozen=True)
class Day(Kind):
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string", "format": "date"})

    def parse(self, name: str, value: Any, reading: Reading) -> date:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise invalid(name, f"must be an ISO 8601 date (YYYY-MM-DD), got {value!r}")


@dataclass(frozen=True)
class Flag(Kind):
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "boolean"})

    def parse(self, name: str, value: Any, reading: Reading) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):  # query strings
            return bool(value == "true")
        raise invalid(name, "must be true or false")


@dataclass(frozen=True)
class Count(Kind):
    def parse(self, name: str, value: Any, reading: Reading) -> int:
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
            value = int(value)  # query strings and path segments
        low, high = self.schema["minimum"], self.schema["maximum"]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(name, f"must be an integer from {low} to {high}")
        return value


def count(low: int, high: int) -> Count:
    return Count({"type": "integer", "minimum": low, "maximum": high})


@dataclass(frozen=True)
class TextList(Kind):
    def parse(self, name: str, value: Any, reading: Reading) -> tuple[str, ...]:
        limit = self.schema["maxItems"]
        if not isinstance(value, list) or not 1 <= len(value) <= limit:
            raise invalid(name, f"must be a list of 1–{limit} strings")
        item = Text(self.schema["items"])
        return tuple(item.parse(f"{name}[{i}]", v, reading) for i, v in enumerate(value))


def text_list(max_items: int = 20, max_length: int = 60) -> TextList:
    return TextList(
        {
            "type": "array",
            "minItems": 1,
            "maxItems": max_items,
            "items": {"type": "string", "minLength": 1, "maxLength": max_length},
        }
    )


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    description: str = ""

    def schema(self) -> dict[str, Any]:
        described = {"description": self.description} if self.description else {}
        return {**self.kind.schema, **described}


def invalid(name: str, why: str) -> ApiError:
    return ApiError(400, "invalid_field", f"{name}: {why}", name)


def object_schema(fields: Sequence[Field]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: f.schema() for f in fields},
    }


def read(fields: Sequence[Field], source: Mapping[str, Any], reading: Reading) -> dict[str, Any]:
    """Every declared field's parsed value (``None`` when absent). Unknown names and explicit
    ``null``s are rejected: leave a field out to get its default."""
    unknown = sorted(set(source) - {f.name for f in fields})
    if unknown:
        raise invalid(unknown[0], "unknown field")
    values: dict[str, Any] = {}
    for f in fields:
        if f.name not in source:
            if f.required:
                raise invalid(f.name, "is required")
            values[f.name] = None
        elif source[f.name] is None:
            raise invalid(f.name, "must not be null (leave it out for the default)")
        else:
            values[f.name] = f.kind.parse(f.name, source[f.name], reading)
    return values


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying why it is not one. (The body's size
    is capped by the application's ``client_max_size``: 413 beyond it.)"""
    raw = await request.read()
    too_deep = ApiError(
        400, "invalid_json", f"request body is nested more than {MAX_JSON_DEPTH} levels deep"
    )
    try:
        value = json.loads(raw)
    except RecursionError:  # the parser recurses per level; 64 KiB can nest 32,000 deep
        raise too_deep from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", "request body must be a JSON object")
    if _depth(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


def _depth(value: Any) -> int:
    """How deep lists and objects nest in a parsed JSON value (without recursing)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


def query(request: web.Request) -> dict[str, str]:
    """Query parameters; a repeated name is a 400 (which one would we honour?)."""
    values: dict[str, str] = {}
    for name, value in request.query.items():
        if name in values:
            raise invalid(name, "given more than once")
        values[name] = value
    return values

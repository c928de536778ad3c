"""Declared inputs: one definition per field gives both its OpenAPI schema and its parser.

Bodies and query strings are read through these, so the document at ``/v1/openapi.json`` cannot
drift from what the handlers accept, and every rejection is a 400 naming the field.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aiohttp import web

from ..clock import ClockError, parse_instant
from ..numbers import InvalidNumber, normalize
from .errors import ApiError

_PHONE_PATTERN = r"^[0-9+()\-. /]{1,40}$"


@dataclass(frozen=True)
class Kind(abc.ABC):
    """How one value is written (``schema``) and read (:meth:`parse`)."""

    schema: Mapping[str, Any]

    @abc.abstractmethod
    def parse(self, name: str, value: Any, region: str) -> Any:
        """The value to hand to the handler, or an :class:`ApiError` (400) naming ``name``."""


@dataclass(frozen=True)
class Text(Kind):
    """Free text, stripped; blank is treated as invalid rather than as absent."""

    def parse(self, name: str, value: Any, region: str) -> Any:
        longest = self.schema.get("maxLength", 200)
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        if not value.strip() or len(value) > longest:
            raise invalid(name, f"must be 1–{longest} characters, not blank")
        return value.strip()


def text(max_length: int = 200) -> Text:
    return Text({"type": "string", "minLength": 1, "maxLength": max_length})


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

    def parse(self, name: str, value: Any, region: str) -> Any:
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        try:
            return normalize(value, region)
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
    def parse(self, name: str, value: Any, region: str) -> Any:
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

    def parse(self, name: str, value: Any, region: str) -> datetime:
        if not isinstance(value, str):
            raise invalid(name, "must be an ISO 8601 date/time string")
        try:
            return parse_instant(value, name)
        except ClockError as exc:
            raise invalid(name, str(exc)) from None


@dataclass(frozen=True)
class Day(Kind):
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string", "format": "date"})

    def parse(self, name: str, value: Any, region: str) -> date:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise invalid(name, f"must be an ISO 8601 date (YYYY-MM-DD), got {value!r}")


@dataclass(frozen=True)
class Flag(Kind):
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "boolean"})

    def parse(self, name: str, value: Any, region: str) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):  # query strings
            return bool(value == "true")
        raise invalid(name, "must be true or false")


@dataclass(frozen=True)
class Count(Kind):
    def parse(self, name: str, value: Any, region: str) -> int:
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
    def parse(self, name: str, value: Any, region: str) -> tuple[str, ...]:
        limit = self.schema["maxItems"]
        if not isinstance(value, list) or not 1 <= len(value) <= limit:
            raise invalid(name, f"must be a list of 1–{limit} strings")
        item = Text(self.schema["items"])
        return tuple(item.parse(f"{name}[{i}]", v, region) for i, v in enumerate(value))


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


def read(fields: Sequence[Field], source: Mapping[str, Any], region: str) -> dict[str, Any]:
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
            values[f.name] = f.kind.parse(f.name, source[f.name], region)
    return values


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying why it is not one. (The body's size
    is capped by the application's ``client_max_size``: 413 beyond it.)"""
    raw = await request.read()
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", "request body must be a JSON object")
    return value


def query(request: web.Request) -> dict[str, str]:
    """Query parameters; a repeated name is a 400 (which one would we honour?)."""
    values: dict[str, str] = {}
    for name, value in request.query.items():
        if name in values:
            raise invalid(name, "given more than once")
        values[name] = value
    return values

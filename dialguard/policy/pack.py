"""Rule packs: the parameters of the rules, as versioned data.

A pack is a TOML file shipped in ``dialguard/policy/packs/``; the operator's overrides file has
the same layout and is merged over it table by table. The policy version that every decision
carries names the pack, its version and, when overridden, a digest of the overrides, so a
decision can always be traced to the exact parameters that produced it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from .calendar import HolidayCalendar, load_calendar_file, shipped_cn_calendar
from .model import NumberType


class PackError(ValueError):
    """A rule pack or override that cannot be used; names the file and the key."""


@dataclass(frozen=True)
class PurposeRule:
    name: str
    requires_consent: bool
    number_types: frozenset[NumberType]


@dataclass(frozen=True)
class FrequencyWindow:
    max_attempts: int
    window: timedelta


@dataclass(frozen=True)
class RetentionClass:
    name: str
    days: int
    legal_basis: str
    anchor: str


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    effective_from: date
    policy_version: str
    emergency_numbers: frozenset[str]
    purposes: Mapping[str, PurposeRule]
    quiet_start: time
    quiet_end: time
    default_time_zone: str
    calendar: HolidayCalendar
    deny_when_calendar_missing: bool
    frequency: tuple[FrequencyWindow, ...]
    refuse_spoofed_inbound: bool
    refuse_invalid_inbound: bool
    record_outbound: bool
    retention_class: str
    retention: Mapping[str, RetentionClass]
    industry_retention: Mapping[str, str]
    """Retention class per tenant industry, where it differs from ``retention_class``."""
    sources: Mapping[str, str]
    """Which file each top-level table came from (for ``policy show``)."""

    def retention_class_for(self, industry: str) -> str:
        return self.industry_retention.get(industry, self.retention_class)

    @property
    def longest_window(self) -> timedelta:
        return max((w.window for w in self.frequency), default=timedelta(0))


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Reader:
    """Typed access to a pack table that names the offending key on error."""

    def __init__(self, data: Mapping[str, Any], origin: str) -> None:
        self.data = data
        self.origin = origin

    def get(self, dotted: str, kind: type | tuple[type, ...]) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise PackError(f"{self.origin}: missing {dotted!r}")
            node = node[part]
        if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
            raise PackError(f"{self.origin}: {dotted!r} has the wrong type: {node!r}")
        return node

    def clock(self, dotted: str) -> time:
        raw = self.get(dotted, str)
        try:
            return time.fromisoformat(raw)
        except ValueError:
            raise PackError(f"{self.origin}: {dotted!r} must be HH:MM, got {raw!r}") from None


def _purposes(reader: _Reader) -> dict[str, PurposeRule]:
    table = reader.get("purposes", Mapping)
    purposes: dict[str, PurposeRule] = {}
    for name in table:
        types = reader.get(f"purposes.{name}.number_types", list)
        try:
            number_types = frozenset(NumberType(t) for t in types)
        except ValueError:
            raise PackError(f"{reader.origin}: purposes.{name}.number_types: {types!r}") from None
        purposes[name] = PurposeRule(
            name, reader.get(f"purposes.{name}.requires_consent", bool), number_types
        )
    return purposes


def _frequency(reader: _Reader) -> tuple[FrequencyWindow, ...]:
    windows = []
    for index, _ in enumerate(reader.get("frequency.windows", list)):
        sub = _Reader(reader.data["frequency"]["windows"][index], reader.origin)
        minutes = sub.get("window_minutes", int)
        limit = sub.get("max_attempts", int)
        if minutes <= 0 or limit <= 0:
            raise PackError(f"{reader.origin}: frequency.windows[{index}] must be positive")
        windows.append(FrequencyWindow(limit, timedelta(minutes=minutes)))
    return tuple(sorted(windows, key=lambda w: w.window))


def _retention(reader: _Reader) -> dict[str, RetentionClass]:
    return {
        name: RetentionClass(
            name,
            reader.get(f"retention.{name}.days", int),
            reader.get(f"retention.{name}.legal_basis", str),
            reader.get(f"retention.{name}.anchor", str),
        )
        for name in reader.get("retention", Mapping)
    }


def _calendar(reader: _Reader, calendar_file: Path | None) -> HolidayCalendar:
    name = reader.get("holidays.calendar", str)
    if name != "cn":
        raise PackError(f"{reader.origin}: holidays.calendar: unknown calendar {name!r}")
    calendar = shipped_cn_calendar()
    if calendar_file is not None:
        calendar = calendar.merged_with(load_calendar_file(calendar_file))
    return calendar


def build_pack(
    data: Mapping[str, Any],
    origin: str,
    overrides_digest: str | None = None,
    calendar_file: Path | None = None,
    sources: Mapping[str, str] | None = None,
) -> RulePack:
    reader = _Reader(data, origin)
    name = reader.get("pack.name", str)
    version = reader.get("pack.version", str)
    policy_version = f"{name}-{version}" + (
        f"+local.{overrides_digest}" if overrides_digest else ""
    )
    missing = reader.get("holidays.missing", str)
    if missing not in ("deny", "allow"):
        raise PackError(f"{origin}: holidays.missing must be 'deny' or 'allow', got {missing!r}")
    retention = _retention(reader)
    retention_class = reader.get("recording.retention_class", str)
    industry_retention = {
        industry: reader.get(f"industries.{industry}.retention_class", str)
        for industry in data.get("industries", {})
    }
    for key, name in [("recording", retention_class)] + [
        (f"industries.{i}", c) for i, c in industry_retention.items()
    ]:
        if name not in retention:
            raise PackError(f"{origin}: {key}.retention_class {name!r} is not defined")
    return RulePack(
        name=name,
        version=version,
        effective_from=reader.get("pack.effective_from", date),
        policy_version=policy_version,
        emergency_numbers=frozenset(reader.get("emergency.numbers", list)),
        purposes=_purposes(reader),
        quiet_start=reader.clock("quiet_hours.start"),
        quiet_end=reader.clock("quiet_hours.end"),
        default_time_zone=reader.get("quiet_hours.default_time_zone", str),
        calendar=_calendar(reader, calendar_file),
        deny_when_calendar_missing=missing == "deny",
        frequency=_frequency(reader),
        refuse_spoofed_inbound=reader.get("inbound.refuse_spoofed", bool),
        refuse_invalid_inbound=reader.get("inbound.refuse_invalid", bool),
        record_outbound=reader.get("recording.outbound", bool),
        retention_class=retention_class,
        retention=retention,
        industry_retention=industry_retention,
        sources=dict(sources or {}),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise PackError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path}: {exc}") from None


def shipped_pack_path(name: str) -> Path:
    path = Path(str(resources.files("dialguard.policy") / "packs" / f"{name}.toml"))
    if not path.is_file():
        raise PackError(f"no shipped rule pack named {name!r}")
    return path


def load_pack(
    name: str = "cn", overrides_file: Path | None = None, calendar_file: Path | None = None
) -> RulePack:
    base_path = shipped_pack_path(name)
    data = _read_toml(base_path)
    sources = {table: f"pack {name} ({base_path.name})" for table in data}
    digest = None
    origin = str(base_path)
    if overrides_file is not None:
        overrides = _read_toml(overrides_file)
        canonical = json.dumps(overrides, sort_keys=True, default=str).encode()
        digest = hashlib.sha256(canonical).hexdigest()[:8]
        data = _merge(data, overrides)
        sources.update({table: f"overrides ({overrides_file})" for table in overrides})
        origin = f"{base_path} + {overrides_file}"
    return build_pack(data, origin, digest, calendar_file, sources)

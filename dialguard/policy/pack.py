"""Rule packs: the parameters of the rules, as versioned data.

A pack is a TOML file shipped in ``dialguard/policy/packs/``. A *jurisdiction* pack (``cn``,
``us``, ``eu``) is complete on its own; an *overlay* (``cn-finance``) holds only what an
industry changes and is merged over its jurisdiction; a jurisdiction's ``[subdivisions.XX]``
tables (US states) are merged over it for callees there; the operator's overrides file is merged
last. :mod:`.book` does the layering; this module turns one merged table into a typed
:class:`RulePack` and remembers, for every parameter, which layer it came from.

The policy version that every decision carries names each layer and its version and, when
overridden, a digest of the overrides that applied, so a decision can always be traced to the
exact parameters that produced it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from .calendar import HolidayCalendar, load_calendar_file, shipped_cn_calendar
from .layers import Tracked, flatten
from .model import NumberType
from .numbering import NumberingError, NumberingPlan, parse_plan

POLICY_VERSION_MAX = 64
"""Width of ``decisions.policy_version``."""
CONTACT_FLAGS = frozenset({"minor", "guardian"})
_DIGITS = re.compile(r"[0-9]{1,15}")


class PackError(ValueError):
    """A rule pack or override that cannot be used; names the file and the key."""


@dataclass(frozen=True)
class PurposeRule:
    name: str
    requires_consent: bool
    number_types: frozenset[NumberType]
    forbidden: bool = False
    """The purpose is unlawful outright for this pack (healthcare: no advertising calls)."""
    consent_channels: frozenset[str] = frozenset()
    """Only consent records on these channels count (empty: any channel)."""
    sms_confirmation: bool = False
    """Besides the consent, a consent record on channel ``sms`` must hold (finance marketing)."""
    forbidden_contacts: frozenset[str] = frozenset()
    """Contact flags (``minor``, ``guardian``) that rule the callee out for this purpose."""


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
    default_time_zones: tuple[str, ...]
    """Zones assumed when the callee's number maps to none: all must be outside quiet hours."""
    calendar: HolidayCalendar
    deny_when_calendar_missing: bool
    frequency: tuple[FrequencyWindow, ...]
    refuse_spoofed_inbound: bool
    refuse_invalid_inbound: bool
    record_outbound: bool
    retention_class: str
    retention: Mapping[str, RetentionClass]
    require_approved_script: bool = True
    unverified_inbound: str = "ignore"
    """``inbound.verification``: what a caller ID whose STIR/SHAKEN verification failed (verstat
    ``TN-Validation-Failed``) does to an inbound call: ``refuse`` it, ``flag`` it (allowed, with
    ``callerid.verification_failed``) or ``ignore`` it (the default)."""
    recording_notice: str = "off"
    """``recording.notice``: ``required`` — the callee hears the recording notice after answer
    and before the recording starts (the PBX plays the operator's prompt); ``off`` (default)."""
    emergency_prefixes: frozenset[str] = frozenset()
    """Prefixes (a national or trunk prefix) that may precede an emergency number as dialled;
    :mod:`.emergency` is the one place that decides what an emergency call is."""
    data_region: str | None = None
    """Where recordings and personal data of calls under this pack must be stored (EU: ``eu``)."""
    sensitive_data: bool = False
    """Personal data under this pack is sensitive (healthcare): masked everywhere."""
    export_roles: frozenset[str] = frozenset()
    """When non-empty, only these roles may export personal data (healthcare: ``dsr``)."""
    phrase_packs: tuple[str, ...] = ()
    numbering: NumberingPlan | None = None
    """The jurisdiction's access-code classes (``[numbering]``): China's 95xxx, 100xx, 106…"""
    """Banned-phrase packs (:mod:`dialguard.phrases`) for scripts and texts under this pack."""
    layers: tuple[str, ...] = ()
    """Layers used: ``name-version``: ``cn-2026.1``, ``us-2026.1/FL``, ``cn-finance-2026.1``."""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Every parameter as merged, by dotted key (``quiet_hours.start``), for ``policy show``."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Which layer (pack, version and file, or the overrides file) set each parameter."""

    def retention_of(self, decided_at: datetime) -> tuple[str, datetime]:
        """The retention class a decision made under this pack at ``decided_at`` falls in, and
        when that retention ends."""
        kept = self.retention[self.retention_class]
        return kept.name, decided_at + timedelta(days=kept.days)

    @property
    def longest_window(self) -> timedelta:
        return max((w.window for w in self.frequency), default=timedelta(0))


VERIFICATION_ACTIONS = ("refuse", "flag", "ignore")
NOTICE_MODES = ("required", "off")


def _notice(reader: _Reader) -> str:
    mode = reader.opt("recording.notice", str, "off")
    if mode not in NOTICE_MODES:
        raise PackError(
            f"{reader.origin}: 'recording.notice' must be one of {', '.join(NOTICE_MODES)}, "
            f"not {mode!r}"
        )
    return str(mode)


def _verification(reader: _Reader) -> str:
    action = reader.opt("inbound.verification", str, "ignore")
    if action not in VERIFICATION_ACTIONS:
        raise PackError(
            f"{reader.origin}: 'inbound.verification' must be one of "
            f"{', '.join(VERIFICATION_ACTIONS)}, not {action!r}"
        )
    return str(action)


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

    def opt(self, dotted: str, kind: type | tuple[type, ...], default: Any) -> Any:
        """Like :meth:`get`, but ``default`` when the key (or a table above it) is absent."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return self.get(dotted, kind)

    def strings(self, dotted: str, allowed: frozenset[str] | None = None) -> frozenset[str]:
        values = self.opt(dotted, list, [])
        if not all(isinstance(v, str) for v in values) or (
            allowed is not None and not set(values) <= allowed
        ):
            expected = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
            raise PackError(f"{self.origin}: {dotted!r}: {values!r}{expected}")
        return frozenset(values)

    def clock(self, dotted: str) -> time:
        raw = self.get(dotted, str)
        try:
            return time.fromisoformat(raw)
        except ValueError:
            raise PackError(f"{self.origin}: {dotted!r} must be HH:MM, got {raw!r}") from None


def _purposes(reader: _Reader) -> dict[str, PurposeRule]:
    purposes: dict[str, PurposeRule] = {}
    for name in reader.get("purposes", Mapping):
        at = f"purposes.{name}"
        types = reader.get(f"{at}.number_types", list)
        try:
            number_types = frozenset(NumberType(t) for t in types)
        except ValueError:
            raise PackError(f"{reader.origin}: {at}.number_types: {types!r}") from None
        purposes[name] = PurposeRule(
            name,
            reader.get(f"{at}.requires_consent", bool),
            number_types,
            forbidden=reader.opt(f"{at}.forbidden", bool, False),
            consent_channels=reader.strings(f"{at}.consent_channels"),
            sms_confirmation=reader.opt(f"{at}.sms_confirmation", bool, False),
            forbidden_contacts=reader.strings(f"{at}.forbidden_contacts", CONTACT_FLAGS),
        )
    return purposes


def _frequency(reader: _Reader) -> tuple[FrequencyWindow, ...]:
    windows = []
    for index, entry in enumerate(reader.get("frequency.windows", list)):
        sub = _Reader(entry, f"{reader.origin}: frequency.windows[{index}]")
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


def _digit_strings(reader: _Reader, dotted: str, required: bool) -> frozenset[str]:
    """Emergency numbers and prefixes: strings of digits, matched exactly as dialled."""
    values = reader.get(dotted, list) if required else reader.opt(dotted, list, [])
    if not all(isinstance(v, str) and _DIGITS.fullmatch(v) for v in values):
        raise PackError(f"{reader.origin}: {dotted!r} must be strings of digits, got {values!r}")
    return frozenset(values)


NO_HOLIDAYS = HolidayCalendar({}, frozenset(), frozenset(), {})
"""For jurisdictions without a nationwide ban on holiday calls (with ``missing = "allow"``)."""


def calendars(calendar_file: Path | None) -> dict[str, HolidayCalendar]:
    """The holiday calendars a pack may name in ``holidays.calendar``; the operator's official
    calendar file extends the Chinese one."""
    cn = shipped_cn_calendar()
    if calendar_file is not None:
        cn = cn.merged_with(load_calendar_file(calendar_file))
    return {"cn": cn, "none": NO_HOLIDAYS}


def _zones(reader: _Reader) -> tuple[str, ...]:
    raw = reader.get("quiet_hours.default_time_zone", (str, list))
    zones = (raw,) if isinstance(raw, str) else tuple(raw)
    if not zones or not all(isinstance(z, str) and z for z in zones):
        raise PackError(f"{reader.origin}: quiet_hours.default_time_zone: {raw!r}")
    return zones


def _numbering(reader: _Reader) -> NumberingPlan | None:
    table = reader.opt("numbering", Mapping, None)
    if table is None:
        return None
    try:
        return parse_plan(table, reader.origin)
    except NumberingError as exc:
        raise PackError(str(exc)) from None


def build_pack(
    merged: Tracked,
    origin: str,
    available_calendars: Mapping[str, HolidayCalendar],
    layers: tuple[str, ...],
    overrides_digest: str | None = None,
) -> RulePack:
    data = merged.data
    reader = _Reader(data, origin)
    name = reader.get("pack.name", str)
    policy_version = "+".join(layers) + (f"+local.{overrides_digest}" if overrides_digest else "")
    if len(policy_version) > POLICY_VERSION_MAX:
        raise PackError(f"{origin}: policy version {policy_version!r} is over 64 characters")
    missing = reader.get("holidays.missing", str)
    if missing not in ("deny", "allow"):
        raise PackError(f"{origin}: holidays.missing must be 'deny' or 'allow', got {missing!r}")
    calendar_name = reader.get("holidays.calendar", str)
    if calendar_name not in available_calendars:
        raise PackError(f"{origin}: holidays.calendar: unknown calendar {calendar_name!r}")
    retention = _retention(reader)
    retention_class = reader.get("recording.retention_class", str)
    if retention_class not in retention:
        raise PackError(f"{origin}: recording.retention_class {retention_class!r} is not defined")
    parameters = {k: v for k, v in flatten(data) if k.split(".", 1)[0] != "pack"}
    return RulePack(
        name=name,
        version=reader.get("pack.version", str),
        effective_from=reader.get("pack.effective_from", date),
        policy_version=policy_version,
        emergency_numbers=_digit_strings(reader, "emergency.numbers", required=True),
        purposes=_purposes(reader),
        quiet_start=reader.clock("quiet_hours.start"),
        quiet_end=reader.clock("quiet_hours.end"),
        default_time_zones=_zones(reader),
        calendar=available_calendars[calendar_name],
        deny_when_calendar_missing=missing == "deny",
        frequency=_frequency(reader),
        refuse_spoofed_inbound=reader.get("inbound.refuse_spoofed", bool),
        refuse_invalid_inbound=reader.get("inbound.refuse_invalid", bool),
        unverified_inbound=_verification(reader),
        record_outbound=reader.get("recording.outbound", bool),
        recording_notice=_notice(reader),
        retention_class=retention_class,
        retention=retention,
        require_approved_script=reader.get("campaigns.require_approved_script", bool),
        emergency_prefixes=_digit_strings(reader, "emergency.prefixes", required=False),
        data_region=reader.opt("data.region", str, None),
        sensitive_data=reader.opt("data.sensitive", bool, False),
        export_roles=reader.strings("data.export_roles"),
        phrase_packs=tuple(sorted(reader.strings("phrases.packs"))),
        numbering=_numbering(reader),
        layers=layers,
        parameters=parameters,
        sources={k: v for k, v in merged.sources.items() if k in parameters},
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise PackError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path}: {exc}") from None


def shipped_packs_dir() -> Path:
    return Path(str(resources.files("dialguard.policy") / "packs"))

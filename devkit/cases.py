"""The SIPp cases in ``sipp-scenarios/``: the run order from ``index.toml`` and each case's
``expect.toml`` as typed records (see ``sipp-scenarios/index.toml`` for the layout)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "sipp-scenarios"

Peer = Literal["gate", "none", "stuck"]
"""What listens on ``DIALGUARD_AGI``: ``dialguard serve``, nothing, or a server that never
answers."""
Verdict = Literal["allow", "deny", "none"]
"""The decision the gate records for the call; ``none``: no decision is recorded."""
_PEERS = ("gate", "none", "stuck")
_VERDICTS = ("allow", "deny", "none")
_ABUSES = ("header_abort",)


class CaseError(ValueError):
    """A malformed case file; the message names the file and key."""


@dataclass(frozen=True)
class SeedNumber:
    number: str
    purpose: str
    outbound: bool
    type: str | None


@dataclass(frozen=True)
class SeedDnc:
    number: str
    reason: str


@dataclass(frozen=True)
class SeedConsent:
    callee: str
    purpose: str
    evidence: str


@dataclass(frozen=True)
class Call:
    scenario: Path
    peer: Peer
    now: str
    caller: str
    """Presented caller ID (From user, or P-Asserted-Identity user with ``privacy_id``)."""
    callee: str
    """Request-URI user: the number dialled."""
    privacy_id: bool
    privacy: str
    """The ``Privacy`` header the scenario's INVITE carries (``""``: none)."""
    sip: int
    verdict: Verdict
    reason: str | None
    """Expected first reason code of the decision."""
    min_setup_s: float | None
    max_setup_s: float | None
    recorded: bool | None
    """Whether the decision asks for a recording (then it must reach the vault)."""
    retention_days: int | None
    """The vault entry's minimum retention: ``retain_until`` = call end + this many days."""
    legal_basis: str | None
    """Text the vault entry's legal basis must contain."""
    next_allowed: str | None = None
    """The decision's expected ``next_allowed_at`` (ISO 8601 with the callee's offset); None:
    the decision must carry none (allowed, or denied for a reason time does not lift)."""


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    tenant: str
    now: str
    """Clock for seeding, and for calls that do not set their own."""
    abuse: str | None
    industry: str | None
    """The tenant's industry (``dialguard tenants add --industry``); None: left as created."""
    numbers: tuple[SeedNumber, ...]
    dnc: tuple[SeedDnc, ...]
    consent: tuple[SeedConsent, ...]
    calls: tuple[Call, ...]


def load_cases(directory: Path = SCENARIOS_DIR) -> list[Case]:
    index = _read(directory / "index.toml")
    tenant = _get(index, "tenant", str, directory / "index.toml")
    names = _get(index, "cases", list, directory / "index.toml")
    return [load_case(directory, str(name), tenant) for name in names]


def load_case(directory: Path, name: str, tenant: str) -> Case:
    path = directory / name / "expect.toml"
    data = _read(path)
    seed = _get(data, "seed", dict, path, default={})
    case_now = _get(data, "now", str, path)
    calls = _get(data, "call", list, path)
    if not calls:
        raise CaseError(f"{path}: no [[call]]")
    return Case(
        name=name,
        description=_get(data, "description", str, path),
        tenant=tenant,
        now=case_now,
        abuse=_choice(data, "abuse", (None, *_ABUSES), path),
        industry=_get(seed, "industry", str, path, default=None),
        numbers=tuple(
            SeedNumber(
                number=_get(n, "number", str, path),
                purpose=_get(n, "purpose", str, path),
                outbound=_get(n, "outbound", bool, path),
                type=_get(n, "type", str, path, default=None),
            )
            for n in seed.get("numbers", [])
        ),
        dnc=tuple(
            SeedDnc(_get(d, "number", str, path), _get(d, "reason", str, path))
            for d in seed.get("dnc", [])
        ),
        consent=tuple(
            SeedConsent(
                _get(c, "callee", str, path),
                _get(c, "purpose", str, path),
                _get(c, "evidence", str, path),
            )
            for c in seed.get("consent", [])
        ),
        calls=tuple(_call(directory, name, data, call, path) for call in calls),
    )


def _call(
    directory: Path, name: str, case: dict[str, Any], call: dict[str, Any], path: Path
) -> Call:
    def inherited(key: str, default: Any) -> Any:
        return call.get(key, case.get(key, default))

    scenario_case = inherited("scenario", name)
    scenario = directory / str(scenario_case) / "scenario.xml"
    if not scenario.is_file():
        raise CaseError(f"{path}: scenario {scenario_case!r}: no {scenario}")
    privacy_id = _get(call, "privacy_id", bool, path, default=False)
    text = scenario.read_text(encoding="utf-8")
    if privacy_id != ("Privacy: id" in text):
        raise CaseError(f"{path}: privacy_id = {privacy_id} but {scenario} disagrees")
    privacy = _PRIVACY.search(text)
    peer = inherited("peer", None)
    if peer not in _PEERS:
        raise CaseError(f"{path}: peer must be one of {_PEERS}, got {peer!r}")
    recorded = _get(call, "recorded", bool, path, default=None)
    retention_days = _get(call, "retention_days", int, path, default=None)
    legal_basis = _get(call, "legal_basis", str, path, default=None)
    if (retention_days is not None or legal_basis is not None) and recorded is not True:
        raise CaseError(f"{path}: retention_days and legal_basis need recorded = true")
    return Call(
        scenario=scenario,
        peer=peer,
        now=inherited("now", case["now"]),
        caller=_get(call, "caller", str, path),
        callee=_get(call, "callee", str, path),
        privacy_id=privacy_id,
        privacy=privacy.group(1) if privacy else "",
        sip=_get(call, "sip", int, path),
        verdict=_choice(call, "verdict", _VERDICTS, path),
        reason=_get(call, "reason", str, path, default=None),
        min_setup_s=_number(call, "min_setup_s", path),
        max_setup_s=_number(call, "max_setup_s", path),
        recorded=recorded,
        retention_days=retention_days,
        legal_basis=legal_basis,
        next_allowed=_get(call, "next_allowed", str, path, default=None),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CaseError(f"{path}: {exc}") from None


_MISSING = object()
_PRIVACY = re.compile(r"^[ \t]*Privacy:[ \t]*(\S[^\n]*?)[ \t]*$", re.MULTILINE)


def _get(data: dict[str, Any], key: str, kind: type, path: Path, default: Any = _MISSING) -> Any:
    if key not in data:
        if default is _MISSING:
            raise CaseError(f"{path}: missing {key!r}")
        return default
    value = data[key]
    if not isinstance(value, kind):
        raise CaseError(f"{path}: {key!r} must be {kind.__name__}, got {value!r}")
    return value


def _choice(data: dict[str, Any], key: str, allowed: tuple[Any, ...], path: Path) -> Any:
    value = data.get(key)
    if value not in allowed:
        raise CaseError(f"{path}: {key!r} must be one of {allowed}, got {value!r}")
    return value


def _number(data: dict[str, Any], key: str, path: Path) -> float | None:
    value = data.get(key)
    if value is not None and not isinstance(value, int | float):
        raise CaseError(f"{path}: {key!r} must be a number, got {value!r}")
    return None if value is None else float(value)

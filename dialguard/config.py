"""Settings: one typed, immutable object built from defaults, the TOML file, ``DIALGUARD_*`` env
and CLI flags, in that order. A bad key or value fails naming the key.

Every knob is ``section.key`` in the TOML file and ``DIALGUARD_SECTION_KEY`` in the environment;
the CLI accepts ``--set section.key=value`` for any of them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .audit.settings import AuditSettings
from .esl.settings import EslSettings
from .recording.settings import RecordingSettings
from .rights.settings import DsrSettings

DEFAULT_CONFIG_PATH = Path("/etc/dialguard/dialguard.toml")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the key."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:////var/lib/dialguard/dialguard.db"
    """SQLite (embedded, WAL, synchronous=FULL) or ``postgresql+asyncpg://`` for several nodes;
    off this host add ``?ssl=verify-full&sslrootcert=<CA file>`` (see ``storage/pgtls.py``)."""
    pool_size: int = 5


@dataclass(frozen=True)
class NumbersSettings:
    default_region: str = "CN"
    """Region used to read numbers dialled without a country code."""


@dataclass(frozen=True)
class AgiSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 4573
    budget_ms: int = 1500
    """The gate's own deadline for one decision; over it the call is denied (gate.timeout)."""
    header_timeout_ms: int = 2000
    max_header_bytes: int = 16384
    workers: int = 1
    """Processes answering FastAGI on ``port``: ``serve`` itself and ``workers - 1`` more, the
    kernel spreading connections among them (SO_REUSEPORT). Each decides its calls and makes them
    durable itself; ESL, the API, recording and audit checkpoints stay in ``serve``."""


@dataclass(frozen=True)
class ApiSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    optout_client_burst: int = 10
    """Public opt-outs one client address may send at once (token bucket size)…"""
    optout_client_per_hour: int = 60
    """…and the rate its bucket refills at; beyond it, 429 with ``Retry-After``."""
    optout_number_burst: int = 3
    """Opt-outs for one number at once, whoever sends them…"""
    optout_number_per_hour: int = 6
    """…and the rate that bucket refills at."""
    tls_cert_file: str = ""
    """PEM certificate chain: with ``tls_key_file`` the API server (every route on it) serves HTTPS
    only. Without them it serves plain HTTP, and ``serve`` warns if ``host`` is not loopback."""
    tls_key_file: str = ""
    """PEM private key of ``tls_cert_file`` (mode 0600)."""


@dataclass(frozen=True)
class PolicySettings:
    pack: str = "cn"
    """The shipped rule pack to load (``dialguard/policy/packs/<pack>.toml``)."""
    overrides_file: str = ""
    """Optional TOML merged over the pack's parameters (operator's overrides)."""
    calendar_file: str = ""
    """Optional official holiday calendar (TOML) for years the shipped calendar lacks."""
    phrases_file: str = ""
    """Optional banned-phrase file (TOML) extending the shipped phrase packs (scripts, texts)."""
    national_dnc: str = ""
    """Comma-separated national do-not-call index files (:mod:`dialguard.dncindex`)."""


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"
    """``json`` (one object per line) or ``text``."""


@dataclass(frozen=True)
class DisplaySettings:
    timezone: str = ""
    """The operator's IANA zone: times typed without an offset are read in it, and listings
    show times in it with their offset. Empty: the zone of ``numbers.default_region``
    (Asia/Shanghai for CN; UTC for a region without one zone)."""


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    numbers: NumbersSettings = field(default_factory=NumbersSettings)
    agi: AgiSettings = field(default_factory=AgiSettings)
    esl: EslSettings = field(default_factory=EslSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    log: LogSettings = field(default_factory=LogSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    dsr: DsrSettings = field(default_factory=DsrSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")


def _coerce(key: str, raw: Any, target: Any) -> Any:
    kind = type(target)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key}: expected true/false, got {raw!r}")
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(f"{key}: expected an integer, got {raw!r}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected an integer, got {raw!r}") from None
    if not isinstance(raw, str):
        raise ConfigError(f"{key}: expected a string, got {raw!r}")
    return raw


def _apply(settings: Settings, values: Mapping[str, Mapping[str, Any]], origin: str) -> Settings:
    sections = {f.name: f for f in fields(Settings)}
    for section_name, section_values in values.items():
        if section_name not in sections:
            raise ConfigError(f"{origin}: unknown section {section_name!r}")
        if not isinstance(section_values, Mapping):
            raise ConfigError(f"{origin}: {section_name} must be a table")
        section = getattr(settings, section_name)
        known = {f.name for f in fields(section)}
        changes: dict[str, Any] = {}
        for key, raw in section_values.items():
            dotted = f"{section_name}.{key}"
            if key not in known:
                raise ConfigError(f"{origin}: unknown setting {dotted!r}")
            changes[key] = _coerce(f"{origin}: {dotted}", raw, getattr(section, key))
        settings = replace(settings, **{section_name: replace(section, **changes)})
    return settings


def _env_values(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    defaults = Settings()
    for section in fields(Settings):
        for key in fields(getattr(defaults, section.name)):
            env_name = f"DIALGUARD_{section.name}_{key.name}".upper()
            if env_name in environ:
                values.setdefault(section.name, {})[key.name] = environ[env_name]
    return values


def parse_assignments(assignments: list[str]) -> dict[str, dict[str, str]]:
    """``["agi.port=4574"]`` → ``{"agi": {"port": "4574"}}``; names the bad one."""
    values: dict[str, dict[str, str]] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        section, dot, key = name.strip().partition(".")
        if not sep or not dot or not section or not key:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        values.setdefault(section, {})[key] = value
    return values


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cli: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Defaults, then the TOML file (``path``, ``DIALGUARD_CONFIG`` or the default path if it
    exists), then the environment, then CLI values."""
    env = os.environ if environ is None else environ
    settings = Settings()
    explicit = path is not None or "DIALGUARD_CONFIG" in env
    config_path = path or Path(env.get("DIALGUARD_CONFIG", str(DEFAULT_CONFIG_PATH)))
    if config_path.exists():
        try:
            with config_path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: {exc}") from None
        settings = _apply(settings, data, str(config_path))
    elif explicit:
        raise ConfigError(f"config file {config_path} does not exist")
    settings = _apply(settings, _env_values(env), "environment")
    if cli:
        settings = _apply(settings, cli, "command line")
    return settings

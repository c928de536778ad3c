"""Settings: one typed, immutable object built from defaults, the TOML file, ``DIALGUARD_*`` env
and CLI flags, in that order. A bad key or value fails naming the key.

Every knob is ``section.key`` in the TOML file and ``DIALGUARD_SECTION_KEY`` in the environment;
the CLI accepts ``--set section.key=value`` for any of them.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .settings.agi import AgiSettings
from .settings.api import ApiSettings
from .settings.audit import AuditSettings
from .settings.database import DatabaseSettings
from .settings.display import DisplaySettings
from .settings.dsr import DsrSettings
from .settings.errors import ConfigError as ConfigError
from .settings.esl import EslSettings
from .settings.log import LogSettings
from .settings.numbers import NumbersSettings
from .settings.policy import PolicySettings
from .settings.recording import RecordingSettings

DEFAULT_CONFIG_PATH = Path("/etc/dialguard/dialguard.toml")


@dataclass(frozen=True)
class Settings:
    """Every setting, one section per field; :func:`load_settings` builds it."""

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


def setting_naming(settings: Settings, path: str) -> str | None:
    """The ``section.key`` whose value names the file ``path`` (a key file, the SQLite file in
    ``database.url``, a root in a ``name=path`` list), for messages; None if none does."""
    if len(path) < 2:
        return None
    for section in fields(settings):
        values = getattr(settings, section.name)
        for key in fields(values):
            value = getattr(values, key.name)
            if isinstance(value, str) and path in value:
                return f"{section.name}.{key.name}"
    return None


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
    *,
    other_variables: Callable[[], Collection[str]] | None = None,
) -> Settings:
    """Defaults, then the TOML file (``path``, ``DIALGUARD_CONFIG`` or the default path if it
    exists), then the environment, then CLI values.

    Without a config file, the key and data files nobody set follow an SQLite database that is
    not the default one (:func:`follow_database`). A ``DIALGUARD_*`` variable that is neither a
    setting, nor one of :data:`OTHER_VARIABLES`, nor one of ``other_variables()`` (the CLI's
    option variables) is an error like an unknown key: a misspelt override would be ignored."""
    env = os.environ if environ is None else environ
    settings = Settings()
    explicit = path is not None or "DIALGUARD_CONFIG" in env
    config_path = path or Path(env.get("DIALGUARD_CONFIG", str(DEFAULT_CONFIG_PATH)))
    data = _read_config(config_path, explicit)
    if data is not None:
        settings = _apply(settings, data, str(config_path))
    check_variables(env, other_variables)
    from_env = _env_values(env)
    settings = _apply(settings, from_env, "environment")
    if cli:
        settings = _apply(settings, cli, "command line")
    if data is None:
        given = {f"{s}.{k}" for values in (from_env, cli or {}) for s in values for k in values[s]}
        settings = follow_database(settings, given)
    return settings


OTHER_VARIABLES = {
    "DIALGUARD_CONFIG": "the config file (--config)",
    "DIALGUARD_ACTOR": "who acts, for the audit log (--actor)",
    "DIALGUARD_ASSIGNMENTS": "--set, from the environment (space-separated)",
    "DIALGUARD_NOW": "freezes the clock, for drills and tests",
    "DIALGUARD_TEST_PG_URL": "the tests' PostgreSQL server",
    "DIALGUARD_REQUIRE_PG": "CI: fail PostgreSQL tests rather than deselect them",
    "DIALGUARD_TEST_VERIFY_ENTRIES": "the tests' audit log size",
    "DIALGUARD_ASTERISK_ROOTFS": "devkit: where the Asterisk rootfs is built",
    "DIALGUARD_FREESWITCH_DIST": "./dev: the folder holding the FreeSWITCH 1.11.1 tarball",
    "DIALGUARD_ARTEFACTS": "the browser tests' screenshot folder (default artefacts/)",
}
"""``DIALGUARD_*`` environment variables that are not settings."""


def setting_variables() -> dict[str, str]:
    """``DIALGUARD_SECTION_KEY`` → ``section.key``, for every setting."""
    defaults = Settings()
    return {
        f"DIALGUARD_{section.name}_{key.name}".upper(): f"{section.name}.{key.name}"
        for section in fields(Settings)
        for key in fields(getattr(defaults, section.name))
    }


def check_variables(
    environ: Mapping[str, str], other_variables: Callable[[], Collection[str]] | None = None
) -> None:
    """Refuse a ``DIALGUARD_*`` variable that nothing reads, naming the nearest real one.
    ``other_variables`` is asked only when some variable is not a setting."""
    known: set[str] = setting_variables().keys() | OTHER_VARIABLES.keys()
    unknown = sorted(n for n in environ if n.startswith("DIALGUARD_") and n not in known)
    if unknown and other_variables is not None:
        known |= set(other_variables())
        unknown = [name for name in unknown if name not in known]
    if unknown:
        name = unknown[0]
        near = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {near[0]}? " if near else ""
        raise ConfigError(
            f"environment: unknown variable {name!r}: {hint}settings are DIALGUARD_SECTION_KEY "
            "(see docs/operators/configuration.md); unset it"
        )


FOLLOW_DATABASE = {
    "dsr.hash_key_file": "subject-hash.key",
    "audit.signing_key_file": "audit-signing.key",
    "audit.checkpoint_file": "audit-checkpoints.jsonl",
    "recording.keyring_file": "recording-keys.json",
    "recording.regions": "recordings/cn",
}
"""The key and data files that live next to an SQLite database run without a config file."""


def database_directory(settings: Settings) -> Path | None:
    """The directory of the SQLite database file (absolute), None for PostgreSQL or memory."""
    prefix = "sqlite+aiosqlite:///"
    url = settings.database.url
    if not url.startswith(prefix):
        return None
    database = url[len(prefix) :].partition("?")[0]
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).absolute().parent


def follow_database(settings: Settings, given: set[str]) -> Settings:
    """Without a config file, an SQLite database other than the default (a scratch database, a
    test) keeps its keys, checkpoints and recordings beside it: the defaults under
    ``/etc/dialguard`` and ``/var/lib/dialguard`` are the installed gate's, and writing there for
    a scratch database broke every other user's CLI. Settings ``given`` (environment, --set) are
    kept."""
    directory = database_directory(settings)
    if directory is None or settings.database.url == DatabaseSettings().url:
        return settings
    changes: dict[str, dict[str, str]] = {}
    for dotted, name in FOLLOW_DATABASE.items():
        if dotted in given:
            continue
        section, _, key = dotted.partition(".")
        value = str(directory / name)
        changes.setdefault(section, {})[key] = f"cn={value}" if key == "regions" else value
    return _apply(settings, changes, "database directory")


def _read_config(path: Path, explicit: bool) -> dict[str, Any] | None:
    """The TOML file's tables; None when the default file is absent. A file that exists but cannot
    be read (a directory, no permission on it or on ``/etc/dialguard``) is an error naming it: it
    is not silently skipped, which would run on defaults the operator did not choose."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(
                f"config file {path} does not exist (given by --config or DIALGUARD_CONFIG)"
            ) from None
        return None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc.strerror or exc}; run as a user who may read "
            "it (e.g. in the group that owns it), or give another file with --config"
        ) from None

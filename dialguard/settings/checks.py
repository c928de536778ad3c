"""Range checks of the settings, in one place: each raises :class:`ConfigError` naming the first
key that cannot be used. ``serve`` runs the listener sections' before it opens anything
(``esl.*``: the ESL server runs :func:`check_esl` before its grammar checks); the recording
regions' run whenever their maps are read. (What a value must look like to a PBX — ESL's
contexts and paths, the AGI notice's sound name — is checked by the transport that speaks that
grammar.)"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .agi import AgiSettings
from .api import ApiSettings
from .errors import ConfigError
from .esl import EslSettings


def require_positive(section: str, values: object, *keys: str) -> None:
    for key in keys:
        if getattr(values, key) <= 0:
            raise ConfigError(f"{section}.{key}: must be positive")


def require_port(section: str, port: int) -> None:
    """0 is allowed: the system picks a free port (tests, a second gate on one host)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"{section}.port: {port} is not a TCP port")


def check_agi(agi: AgiSettings) -> None:
    require_port("agi", agi.port)
    require_positive("agi", agi, "budget_ms", "header_timeout_ms", "max_header_bytes")
    if agi.workers < 1:
        raise ConfigError(f"agi.workers: must be at least 1, got {agi.workers}")
    if agi.workers > 1 and agi.port == 0:
        raise ConfigError("agi.workers: several processes need a fixed agi.port, not 0")


def check_api(api: ApiSettings) -> None:
    require_port("api", api.port)
    require_positive(
        "api",
        api,
        "optout_client_burst",
        "optout_client_per_hour",
        "optout_number_burst",
        "optout_number_per_hour",
    )


def check_esl(esl: EslSettings) -> None:
    require_port("esl", esl.port)
    require_positive(
        "esl",
        esl,
        "budget_ms",
        "command_timeout_ms",
        "linger_timeout_ms",
        "max_connections_per_peer",
        "max_header_bytes",
        "max_headers",
        "max_body_bytes",
    )


_REGION = re.compile(r"[a-z][a-z0-9-]{0,15}")


def check_regions(roots: Mapping[str, Path], default_region: str) -> None:
    """``recording.regions``: named regions with absolute vault roots, none inside another (a
    recording never leaves its region's root), ``recording.default_region`` among them."""
    if not roots:
        raise ConfigError("recording.regions: at least one region=root is needed")
    for name, root in roots.items():
        if not _REGION.fullmatch(name):
            raise ConfigError(f"recording.regions: bad region name {name!r}")
        if not root.is_absolute():
            raise ConfigError(f"recording.regions: root of {name!r} must be absolute")
    for name, root in roots.items():
        for other, other_root in roots.items():
            if name != other and (root == other_root or root in other_root.parents):
                raise ConfigError(f"recording.regions: roots of {name!r} and {other!r} overlap")
    if default_region not in roots:
        raise ConfigError(
            f"recording.default_region: {default_region!r} is not in recording.regions"
        )


def check_tenant_regions(mapping: Mapping[str, str], regions: Mapping[str, Path]) -> None:
    """``recording.tenant_regions``: every tenant mapped to a region of ``recording.regions``."""
    for tenant, region in mapping.items():
        if region not in regions:
            raise ConfigError(
                f"recording.tenant_regions: {tenant}={region}: no such region in recording.regions"
            )

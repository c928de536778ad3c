"""Range checks of the listener sections, in one place: each raises :class:`ConfigError` naming
the first key that cannot be used. ``serve`` runs them before it opens anything (``esl.*``: the
ESL server runs :func:`check_esl` before its grammar checks). (What a value
must look like to a PBX — ESL's contexts and paths, the AGI notice's sound name — is checked by
the transport that speaks that grammar.)"""

from __future__ import annotations

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

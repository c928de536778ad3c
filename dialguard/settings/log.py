"""Settings of the ``[log]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogSettings:
    """``[log]``: what ``serve`` and the commands log to stderr (numbers always masked)."""

    level: str = "INFO"
    """Python logging level of dialguard's own loggers (``DEBUG``, ``INFO``, ``WARNING``…)."""
    format: str = "json"
    """``json`` (one object per line) or ``text`` (``key=value`` lines). Either way every phone
    number is masked and a value cannot start a line or forge a field."""

"""``[log]``: level and format of the log lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"
    """``json`` (one object per line) or ``text``."""

"""``[display]``: how the shells read and show times."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DisplaySettings:
    timezone: str = ""
    """The operator's IANA zone: times typed without an offset are read in it, and listings
    show times in it with their offset. Empty: the zone of ``numbers.default_region``
    (Asia/Shanghai for CN; UTC for a region without one zone)."""

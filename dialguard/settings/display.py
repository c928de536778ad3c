"""Settings of the ``[display]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DisplaySettings:
    """``[display]``: how the CLI and the API read and show times."""

    timezone: str = ""
    """The operator's IANA zone: times typed without an offset are read in it, and listings
    show times in it with their offset. Empty: the zone of ``numbers.default_region`` (CN:
    Asia/Shanghai; for a region spanning several zones that of its example number, US:
    America/New_York, so set it there), or UTC when the region has none."""

"""The operator's local time: how times without an offset are read and how listings show times.

``display.timezone`` names the zone (IANA); empty means the zone of ``numbers.default_region``
(CN: Asia/Shanghai; for a region spanning several zones, that of its example number — US:
America/New_York — so set it there), or UTC when the region has none. Rows keep UTC; only
what a person types and reads is local. Listings print each instant with its offset, so a
line is unambiguous wherever it is pasted; ``--utc`` prints UTC instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import Settings
from .settings.errors import ConfigError


def operator_zone(settings: Settings) -> tzinfo:
    """The zone naive times are read in and listings are shown in (see the module)."""
    name = settings.display.timezone.strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"display.timezone: {name!r} is not an IANA time zone (e.g. Asia/Shanghai)"
            ) from None
    from .numbers import region_zone  # phonenumbers' data: only when a time is read or shown

    zone = region_zone(settings.numbers.default_region)
    return ZoneInfo(zone) if zone else UTC


def shown(value: datetime | None, zone: tzinfo, *, empty: str = "-") -> str:
    """``value`` as ``YYYY-MM-DD HH:MM:SS+HH:MM`` in ``zone`` (``empty`` for none)."""
    if value is None:
        return empty
    return value.astimezone(zone).isoformat(sep=" ", timespec="seconds")

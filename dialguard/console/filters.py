"""Jinja filters of the console's templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def when(value: datetime | None, zone: Any = None) -> str:
    """``2026-11-25 10:00:00 +08:00`` in the console's zone (``zone``), or UTC."""
    if value is None:
        return "—"
    local = value.astimezone(zone) if zone is not None else value
    return local.strftime("%Y-%m-%d %H:%M:%S %z")


def localiso(value: str | None, zone: Any) -> str:
    """An ISO 8601 instant from a JSON view, in the console's zone."""
    if not value:
        return "—"
    return when(datetime.fromisoformat(value), zone)


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


FILTERS = {"when": when, "localiso": localiso, "ms": ms}

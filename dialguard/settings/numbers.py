"""``[numbers]``: how numbers dialled without a country code are read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NumbersSettings:
    default_region: str = "CN"
    """Region used to read numbers dialled without a country code."""

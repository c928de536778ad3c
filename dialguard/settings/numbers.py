"""Settings of the ``[numbers]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NumbersSettings:
    """``[numbers]``: how numbers are read and normalised to E.164."""

    default_region: str = "CN"
    """Region used to read numbers dialled without a country code."""

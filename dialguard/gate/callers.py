"""Caller numbers that present nothing, in the spelling every PBX uses for them."""

from __future__ import annotations

HIDDEN_NUMBERS = frozenset({"", "unknown", "anonymous", "restricted", "private", "unavailable"})
"""Caller numbers that present nothing (Asterisk sends ``unknown`` when none is set)."""

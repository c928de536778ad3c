"""The error every bad setting raises."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the key."""

"""``[policy]``: the rule pack and the operator's files that extend it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicySettings:
    pack: str = "cn"
    """The shipped rule pack to load (``dialguard/policy/packs/<pack>.toml``)."""
    overrides_file: str = ""
    """Optional TOML merged over the pack's parameters (operator's overrides)."""
    calendar_file: str = ""
    """Optional official holiday calendar (TOML) for years the shipped calendar lacks."""
    phrases_file: str = ""
    """Optional banned-phrase file (TOML) extending the shipped phrase packs (scripts, texts)."""
    national_dnc: str = ""
    """Comma-separated national do-not-call index files (:mod:`dialguard.dnc.index`)."""

"""Settings of the ``[policy]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicySettings:
    """``[policy]``: the rule packs and the data they read besides the database."""

    pack: str = "cn"
    """The default jurisdiction pack (``dialguard/policy/packs/<pack>.toml``): it governs calls to
    countries no other pack claims and to numbers of unknown country."""
    overrides_file: str = ""
    """Optional TOML merged over the pack's parameters (operator's overrides)."""
    calendar_file: str = ""
    """Optional official holiday calendar (TOML) for years the shipped calendar lacks."""
    phrases_file: str = ""
    """Optional banned-phrase file (TOML) extending the shipped phrase packs (scripts, texts)."""
    national_dnc: str = ""
    """Comma-separated national do-not-call index files, built by ``dialguard dnc national
    build``: a callee listed in one is denied ``callee.dnc``."""

"""One rule pack file: its ``[pack]`` header read and checked, its tables kept as data.

A jurisdiction pack names the countries whose callees it governs; an overlay names the
jurisdiction it is merged over and the tenant industry that selects it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .pack import PackError, read_toml


@dataclass(frozen=True)
class PackFile:
    name: str
    version: str
    effective_from: date
    path: Path
    data: Mapping[str, Any]
    jurisdiction: str
    """The pack's own name for a jurisdiction pack; the one it overlays for an overlay."""
    industry: str | None
    """None for a jurisdiction pack."""
    countries: frozenset[str]
    subdivisions: Mapping[str, Mapping[str, Any]]
    """``[subdivisions.<code>]`` tables (each with the ``name`` the geocoder gives the place)."""

    @classmethod
    def read(cls, path: Path) -> PackFile:
        data = read_toml(path)
        header = data.get("pack")
        if not isinstance(header, Mapping):
            raise PackError(f"{path}: missing the [pack] table")

        def field(key: str, kind: type) -> Any:
            value = header.get(key)
            if not isinstance(value, kind):
                raise PackError(f"{path}: pack.{key} is missing or has the wrong type: {value!r}")
            return value

        name, kind = field("name", str), field("kind", str)
        if kind not in ("jurisdiction", "overlay"):
            raise PackError(f"{path}: pack.kind must be 'jurisdiction' or 'overlay', got {kind!r}")
        overlay = kind == "overlay"
        subdivisions = data.get("subdivisions", {})
        for code, sub in subdivisions.items():
            if overlay or not isinstance(sub, Mapping) or not isinstance(sub.get("name"), str):
                raise PackError(f"{path}: subdivisions.{code} needs a 'name' (jurisdictions only)")
        return cls(
            name=name,
            version=field("version", str),
            effective_from=field("effective_from", date),
            path=path,
            data=data,
            jurisdiction=field("jurisdiction", str) if overlay else name,
            industry=field("industry", str) if overlay else None,
            countries=frozenset() if overlay else frozenset(field("countries", list)),
            subdivisions=subdivisions,
        )

    @property
    def layer(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} ({self.path.name})"

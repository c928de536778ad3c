"""The policy book: every shipped rule pack, and which of them governs a call.

The callee's country selects the jurisdiction pack (``[pack] countries``; the default pack,
``policy.pack``, for any other country or an unknown one); a jurisdiction's ``[subdivisions.XX]``
table applies when the callee's number is located there (US states, from the area code); the
tenant's industry selects an overlay of that jurisdiction (``cn-finance``), if there is one.
:meth:`PolicyBook.select` merges the layers in that order, then the operator's overrides, into
one :class:`RulePack`, so the engine stays the one place that decides and never knows about
layers. Each combination is built once and cached.

Versions: several files may carry the same pack name with different ``version`` and
``effective_from``; a call gets, per pack, the newest version in force on the callee's date. An
overlay not yet in force is not applied; a jurisdiction not yet in force falls back to the
default pack.

Overrides file: top-level tables override the default pack (as they always have);
``[packs.<name>.<table>]`` overrides pack ``<name>`` (``[packs.us.quiet_hours]``,
``[packs.cn-finance.purposes.marketing]``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from ..numbers import place_of, region_of
from .calendar import HolidayCalendar
from .layers import Tracked
from .numbering import Numbering
from .pack import (
    PackError,
    RetentionClass,
    RulePack,
    build_pack,
    calendars,
    read_toml,
    shipped_packs_dir,
)
from .packfile import PackFile

_HEADER_ONLY = frozenset({"pack", "subdivisions"})
_MAX_SELECTED = 10_000
"""Bound of the per-call selection caches (their keys include the date)."""


@dataclass(frozen=True)
class Selection:
    """Which pack governs a call, and why (``dialguard policy show``)."""

    pack: RulePack
    region: str | None
    subdivision: str | None
    files: tuple[PackFile, ...]
    overrides: str | None
    """The operator's overrides file, when one is configured (it may not touch these packs)."""


class PolicyBook:
    def __init__(
        self,
        files: list[PackFile],
        default: str,
        overrides: Mapping[str, Mapping[str, Any]],
        overrides_label: str,
        available_calendars: Mapping[str, HolidayCalendar],
    ) -> None:
        self._versions: dict[str, list[PackFile]] = {}
        for pack_file in sorted(files, key=lambda f: f.effective_from):
            self._versions.setdefault(pack_file.name, []).append(pack_file)
        if default not in self._versions or self._versions[default][0].industry is not None:
            raise PackError(f"policy.pack: no shipped jurisdiction pack named {default!r}")
        unknown = sorted(set(overrides) - set(self._versions))
        if unknown:
            raise PackError(f"{overrides_label}: packs.{unknown[0]}: no such rule pack")
        self.default = default
        self._overrides = overrides
        self._overrides_label = overrides_label
        self._calendars = available_calendars
        self._countries: dict[str, str] = {}
        for name, versions in self._versions.items():
            for country in {c for f in versions for c in f.countries}:
                if self._countries.setdefault(country, name) != name:
                    raise PackError(
                        f"country {country} is claimed by packs {name} and "
                        f"{self._countries[country]}"
                    )
        self._cache: dict[tuple[str, str | None, str | None], RulePack] = {}
        self._selected: dict[tuple[str, str | None, str | None, date | None], RulePack] = {}
        self._in_force_on: dict[tuple[str, date | None], PackFile | None] = {}
        self._retention: dict[str, RetentionClass] | None = None
        # Every combination is built once here, so that a bad pack fails at start, not on a
        # call; then every pack is given every retention class, so that whatever pack assigned
        # a recording's class, any pack's retention policy can apply it.
        self._retention = _union_of_retention(tuple(self._every_combination()))
        self._cache = {k: replace(p, retention=self._retention) for k, p in self._cache.items()}
        self.every_pack: tuple[RulePack, ...] = tuple(self._cache.values())

    @classmethod
    def load(
        cls,
        default: str = "cn",
        overrides_file: Path | None = None,
        calendar_file: Path | None = None,
        directory: Path | None = None,
    ) -> PolicyBook:
        folder = directory or shipped_packs_dir()
        files = [PackFile.read(path) for path in sorted(folder.glob("*.toml"))]
        overrides: dict[str, dict[str, Any]] = {}
        label = "overrides"
        if overrides_file is not None:
            raw = read_toml(overrides_file)
            per_pack = raw.pop("packs", {})
            if not isinstance(per_pack, Mapping):
                raise PackError(f"{overrides_file}: 'packs' must be a table of pack names")
            overrides = {name: dict(tables) for name, tables in per_pack.items()}
            if raw:
                overrides[default] = {**raw, **overrides.get(default, {})}
            label = f"overrides ({overrides_file})"
        return cls(files, default, overrides, label, calendars(calendar_file))

    def _in_force(self, name: str, on: date | None) -> PackFile | None:
        key = (name, on)
        if key in self._in_force_on:
            return self._in_force_on[key]
        versions = self._versions.get(name, [])
        current = [f for f in versions if on is None or f.effective_from <= on]
        found = current[-1] if current else None
        if len(self._in_force_on) >= _MAX_SELECTED:
            self._in_force_on.clear()
        self._in_force_on[key] = found
        return found

    def jurisdiction_for(self, region: str | None) -> str:
        return self._countries.get(region or "", self.default)

    def overlay_name(self, jurisdiction: str, industry: str) -> str | None:
        for name, versions in self._versions.items():
            if versions[0].jurisdiction == jurisdiction and versions[0].industry == industry:
                return name
        return None

    @property
    def geocodes(self) -> bool:
        """Some pack has subdivisions: calls to its numbers are located (:func:`place_of`)."""
        return any(f.subdivisions for versions in self._versions.values() for f in versions)

    def subdivision_of(self, jurisdiction: str, callee: str | None, on: date | None) -> str | None:
        """The subdivision code of the jurisdiction pack the callee's number is located in."""
        pack_file = self._in_force(jurisdiction, on)
        if callee is None or pack_file is None or not pack_file.subdivisions:
            return None  # no geocoding for a pack without subdivisions (most calls)
        place = place_of(callee)
        for code, table in pack_file.subdivisions.items():
            if place and (place == table["name"] or place.endswith(f", {code}")):
                return code
        return None

    def for_callee(self, industry: str, callee: str | None, on: date | None) -> RulePack:
        """The pack governing a call by a tenant of ``industry`` to ``callee`` (E.164 or None):
        :meth:`explain`'s pack, remembered per (industry, region, subdivision, date) since it
        runs on every call."""
        region = region_of(callee) if callee else None
        subdivision = self.subdivision_of(self.jurisdiction_for(region), callee, on)
        key = (industry, region, subdivision, on)
        pack = self._selected.get(key)
        if pack is None:
            if len(self._selected) >= _MAX_SELECTED:  # a new day's keys replace the old ones
                self._selected.clear()
            pack = self._selected[key] = self._build(
                *self._choose(industry, region, subdivision, on)
            )
        return pack

    def explain(self, industry: str, callee: str | None, on: date | None) -> Selection:
        """:meth:`for_callee` with the reasons: the region, subdivision and files it used."""
        region = region_of(callee) if callee else None
        subdivision = self.subdivision_of(self.jurisdiction_for(region), callee, on)
        base, sub, overlay = self._choose(industry, region, subdivision, on)
        return Selection(
            pack=self._build(base, sub, overlay),
            region=region,
            subdivision=sub,
            files=(base,) if overlay is None else (base, overlay),
            overrides=self._overrides_label if self._overrides else None,
        )

    def select(
        self, industry: str, region: str | None, subdivision: str | None, on: date | None = None
    ) -> RulePack:
        """``on=None`` takes the newest version of every pack."""
        return self._build(*self._choose(industry, region, subdivision, on))

    def _choose(
        self, industry: str, region: str | None, subdivision: str | None, on: date | None
    ) -> tuple[PackFile, str | None, PackFile | None]:
        base = self._in_force(self.jurisdiction_for(region), on)
        if base is None:
            base = self._in_force(self.default, on) or self._versions[self.default][0]
        overlay_name = self.overlay_name(base.name, industry)
        overlay = self._in_force(overlay_name, on) if overlay_name else None
        return base, subdivision if subdivision in base.subdivisions else None, overlay

    def _build(self, base: PackFile, sub: str | None, overlay: PackFile | None) -> RulePack:
        subdivisions = base.subdivisions
        key = (base.layer, sub, overlay.layer if overlay else None)
        if key in self._cache:
            return self._cache[key]
        merged = Tracked().merge(base.data, base.label, frozenset({"subdivisions"}))
        layers = [base.layer + (f"/{sub}" if sub else "")]
        if sub is not None:
            merged.merge(subdivisions[sub], f"{base.label} subdivisions.{sub}", frozenset({"name"}))
        origin = str(base.path)
        if overlay is not None:
            merged.merge(overlay.data, overlay.label, _HEADER_ONLY)
            layers.append(overlay.layer)
            origin += f" + {overlay.path}"
        # The operator has the last word, over every shipped layer.
        applied = {
            f.name: self._overrides[f.name]
            for f in (base, overlay)
            if f is not None and f.name in self._overrides
        }
        for tables in applied.values():
            merged.merge(tables, self._overrides_label, _HEADER_ONLY)
        digest = None
        if applied:
            canonical = json.dumps(applied, sort_keys=True, default=str).encode()
            digest = hashlib.sha256(canonical).hexdigest()[:8]
            origin += f" + {self._overrides_label}"
        pack = build_pack(merged, origin, self._calendars, tuple(layers), digest)
        if self._retention is not None:
            pack = replace(pack, retention=self._retention)
        self._cache[key] = pack
        return pack

    def _every_combination(self) -> Iterator[RulePack]:
        for versions in self._versions.values():
            for pack_file in versions:
                if pack_file.industry is not None:
                    base = self._in_force(pack_file.jurisdiction, pack_file.effective_from)
                    if base is None:
                        raise PackError(
                            f"{pack_file.path}: no pack {pack_file.jurisdiction!r} "
                            f"in force on {pack_file.effective_from}"
                        )
                    yield self._build(base, None, pack_file)
                    continue
                yield self._build(pack_file, None, None)
                for code in pack_file.subdivisions:
                    yield self._build(pack_file, code, None)

    @cached_property
    def longest_window(self) -> timedelta:
        """The longest frequency window of any pack: what the facts lookup must cover (asked on
        every call; the packs never change after loading)."""
        return max(pack.longest_window for pack in self.every_pack)

    @property
    def default_pack(self) -> RulePack:
        """The default pack, newest version, no industry: the gate's pack before it knows
        anything about a call (emergency numbers, its own ``gate.*`` denials)."""
        return self.select("general", None, None)

    def phrase_packs(self, industry: str) -> tuple[str, ...]:
        """Banned-phrase packs for a tenant of ``industry``: those of its overlay in every
        jurisdiction (a script may be read to a callee in any of them)."""
        names: set[str] = set()
        for jurisdiction in {v[0].jurisdiction for v in self._versions.values()}:
            names.update(self.select(industry, self._region_of(jurisdiction), None).phrase_packs)
        return tuple(sorted(names))

    def industry_packs(self, industry: str) -> tuple[RulePack, ...]:
        """The pack a tenant of ``industry`` gets in each jurisdiction (newest versions, no
        subdivision): what holds for the tenant's data whichever country a call went to."""
        jurisdictions = sorted({v[0].jurisdiction for v in self._versions.values()})
        return tuple(self.select(industry, self._region_of(j), None) for j in jurisdictions)

    def data_regions(self) -> dict[str, str]:
        """Jurisdiction pack name → the storage region its pack requires, where it has one."""
        return {
            pack.name: pack.data_region for pack in self.every_pack if pack.data_region is not None
        }

    @cached_property
    def numbering(self) -> Numbering:
        """The access-code classes of every jurisdiction that defines them (``[numbering]``)."""
        plans = {p.numbering.region: p.numbering for p in self.every_pack if p.numbering}
        return Numbering(plans.values())

    def _region_of(self, jurisdiction: str) -> str | None:
        return next((c for c, name in self._countries.items() if name == jurisdiction), None)


def _union_of_retention(packs: tuple[RulePack, ...]) -> dict[str, RetentionClass]:
    """Every retention class any pack defines; a name must mean the same terms everywhere."""
    classes: dict[str, RetentionClass] = {}
    for pack in packs:
        for name, terms in pack.retention.items():
            if classes.setdefault(name, terms) != terms:
                raise PackError(
                    f"retention class {name!r} is defined differently in {pack.policy_version}"
                )
    return classes


def load_pack(
    name: str = "cn", overrides_file: Path | None = None, calendar_file: Path | None = None
) -> RulePack:
    """The jurisdiction pack ``name`` on its own (no industry, no subdivision): what a call to a
    callee of unknown country by a ``general`` tenant gets when ``name`` is the default."""
    return PolicyBook.load(name, overrides_file, calendar_file).select("general", None, None)

"""Layering pack tables: merge one over another and remember which layer set each parameter.

Tables merge key by key; any other value (arrays included) replaces what was there, so an
overlay that sets ``frequency.windows`` replaces the whole list. Provenance is kept per leaf
(dotted key), which is what ``dialguard policy show`` prints next to each parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tracked:
    """A table being layered, with the label of the layer that set each leaf."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def merge(
        self, layer: Mapping[str, Any], label: str, skip: frozenset[str] = frozenset()
    ) -> Tracked:
        """Merge ``layer`` over what is there; top-level tables named in ``skip`` are not
        parameters (an overlay's own ``[pack]`` header, a jurisdiction's ``[subdivisions]``)."""
        _merge_into(self.data, layer, label, self.sources, "", skip)
        return self


def _merge_into(
    base: dict[str, Any],
    layer: Mapping[str, Any],
    label: str,
    sources: dict[str, str],
    prefix: str,
    skip: frozenset[str],
) -> None:
    """Tables merge key by key; any other value (arrays included) replaces what was there."""
    for key, value in layer.items():
        if not prefix and key in skip:
            continue
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not isinstance(base.get(key), dict):
                base[key] = {}
                _forget(sources, dotted)
            _merge_into(base[key], value, label, sources, f"{dotted}.", frozenset())
        else:
            _forget(sources, dotted)
            base[key] = value
            sources[dotted] = label


def _forget(sources: dict[str, str], dotted: str) -> None:
    for key in [k for k in sources if k == dotted or k.startswith(f"{dotted}.")]:
        del sources[key]


def flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves by dotted key, in file order."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value

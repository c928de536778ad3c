"""Frozen records of campaign scripts and of a text check."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..phrases import Hit


class ScriptStatus(enum.StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True)
class TextCheck:
    """A text screened against the banned phrases of a tenant's packs."""

    packs: tuple[str, ...]
    """The phrase packs that applied (none for a tenant whose packs ban nothing)."""
    phrase_version: str
    """Which phrase files, versions and digests were used (empty when no pack applied)."""
    hits: tuple[Hit, ...]

    @property
    def clean(self) -> bool:
        return not self.hits


def hit_view(hit: Hit) -> dict[str, Any]:
    """A hit as JSON (stored with a refused script, returned by the API)."""
    return {
        "line": hit.line,
        "column": hit.column,
        "end_line": hit.end_line,
        "end_column": hit.end_column,
        "phrase": hit.phrase,
        "pack": hit.pack,
        "matched_text": hit.matched_text,
        "note": hit.note,
    }


def outermost(hits: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Hit views as a person reads them: a hit inside a longer one of the same pack (``保本``
    inside ``100%保本``) is the same occurrence, shown once as its longest phrase. (The API
    and the stored script keep every hit.)"""

    def span(hit: Mapping[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
        return (hit["line"], hit["column"]), (hit["end_line"], hit["end_column"])

    def inside(hit: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
        (start, end), (o_start, o_end) = span(hit), span(other)
        return (
            other["pack"] == hit["pack"]
            and o_start <= start
            and end <= o_end
            and (o_start, o_end) != (start, end)
        )

    return [hit for hit in hits if not any(inside(hit, other) for other in hits)]


@dataclass(frozen=True)
class CampaignScript:
    id: int
    tenant: str
    campaign: str
    status: ScriptStatus
    text: str
    sha256: str
    file_name: str
    phrase_packs: tuple[str, ...]
    phrase_version: str
    hits: tuple[dict[str, Any], ...]
    registered_at: datetime
    registered_by: str


def script_view(script: CampaignScript) -> dict[str, Any]:
    """A script as JSON without its text (``scripts list --json``, the API; ``scripts show
    --json`` has the text too)."""
    return {
        "id": script.id,
        "tenant": script.tenant,
        "campaign": script.campaign,
        "status": script.status.value,
        "sha256": script.sha256,
        "file_name": script.file_name,
        "phrase_packs": list(script.phrase_packs),
        "phrase_version": script.phrase_version,
        "hits": list(script.hits),
        "registered_at": script.registered_at.isoformat(),
        "registered_by": script.registered_by,
    }

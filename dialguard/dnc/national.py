"""National do-not-call registries (the memory-mapped :mod:`dialguard.dnc.index` files) as one
more DNC fact: a callee found in one is a ``callee.dnc`` denial like any other opt-out.

The indexes are opened once at start (``policy.national_dnc``: comma-separated index files);
a file that cannot be opened or fails its checksums stops the start. A lookup reads memory (no
I/O once the pages are cached); if one raises mid-call (the index was corrupted under us), the
call fails closed (``gate.error``) rather than being let through unchecked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..policy.model import DncEntry, DncScope

if TYPE_CHECKING:
    from ..metrics import DncIndexState
    from .index import DncIndex


class NationalDnc:
    def __init__(self, indexes: dict[str, DncIndex]) -> None:
        self._indexes = indexes

    @classmethod
    def open(cls, files: str) -> NationalDnc:
        """``files``: comma-separated index paths (empty: no national registry)."""
        paths = [part.strip() for part in files.split(",") if part.strip()]
        if not paths:
            return cls({})  # without an index nothing loads numpy (start-up of `dialguard check`)
        from .index import DncIndex

        indexes: dict[str, DncIndex] = {}
        try:
            for raw in paths:
                indexes[Path(raw).name] = DncIndex.open(raw)
        except BaseException:
            for index in indexes.values():
                index.close()
            raise
        return cls(indexes)

    def entries(self, callee: str, now: datetime) -> tuple[DncEntry, ...]:
        """One GLOBAL entry per registry listing the E.164 ``callee``."""
        return tuple(
            DncEntry(
                number=callee,
                scope=DncScope.GLOBAL,
                tenant=None,
                campaign=None,
                source=f"national:{name}",
                reason="listed in the national do-not-call registry",
                added_at=now,
                expires_at=None,
                added_by="national-registry",
            )
            for name, index in self._indexes.items()
            if index.contains(callee)
        )

    def states(self) -> list[DncIndexState]:
        """Each registry's generation and when its file was last replaced (metrics)."""
        from ..metrics import DncIndexState  # prometheus_client: only where metrics are read

        return [
            DncIndexState(name, index.generation, _mtime(index.path))
            for name, index in self._indexes.items()
        ]

    def close(self) -> None:
        for index in self._indexes.values():
            index.close()


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:  # replaced under us this instant: report it as new
        return datetime.now(UTC)

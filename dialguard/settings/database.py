"""``[database]``: where the store is (SQLite file or PostgreSQL) and where it is hosted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:////var/lib/dialguard/dialguard.db"
    """SQLite (embedded, WAL, synchronous=FULL) or ``postgresql+asyncpg://`` for several nodes;
    off this host add ``?ssl=verify-full&sslrootcert=<CA file>`` (see ``storage/pgtls.py``)."""
    pool_size: int = 5
    region: str = ""
    """Where this database (decisions, consents, audit) is hosted, e.g. ``cn``: packs that keep
    their calls' data in a region (``[data] region``) deny calls when it is another one. Empty:
    not declared (only the recordings' region is weighed)."""

"""Settings of the ``[database]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatabaseSettings:
    """``[database]``: where decisions, consents, the registry and the audit log are stored."""

    url: str = "sqlite+aiosqlite:////var/lib/dialguard/dialguard.db"
    """SQLite (embedded, WAL, synchronous=FULL) or ``postgresql+asyncpg://`` for several nodes;
    off this host add ``?ssl=verify-full&sslrootcert=<CA file>`` (see the PostgreSQL section of
    ``docs/operators/install.md``)."""
    pool_size: int = 5
    """Connections each process keeps open to the database (SQLAlchemy's pool size)."""
    region: str = ""
    """Where this database (decisions, consents, audit) is hosted, e.g. ``cn``: packs that keep
    their calls' data in a region (``[data] region``) deny calls when it is another one. Empty:
    not declared (only the recordings' region is weighed)."""

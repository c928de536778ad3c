"""The hourly roll-up of the decision log (``decision_hours``), kept by its writers.

Every path that inserts ``decisions`` rows — the repository's :meth:`~.decisions.
DecisionRepository.add_many` and the SQLite group commit (:mod:`.decision_writer`) — adds the
same rows' counts here in the same transaction, so the roll-up never disagrees with what was
committed. A batch adds one row per (tenant, UTC hour, verdict, first reason), as an upsert that
adds to the count. Keys go in sorted order, so two PostgreSQL transactions take the rows' locks in
the same order; the decision log's writers already wait for each other on the audit chain's lock,
so the hour's hot rows add no new wait. Migration ``i18scale`` filled it from the rows stored
before it existed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from .schema import decision_hours as h

NO_REASON = ""
"""The ``reason`` of decisions without one (the key column cannot be NULL)."""


def hour_of(at: datetime) -> datetime:
    """The UTC hour ``at`` falls in (aware)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_counts(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The roll-up increments of ``decisions`` rows about to be inserted, in key order."""
    counts = Counter(
        (
            row["tenant"],
            hour_of(row["decided_at"]),
            row["verdict"],
            row["first_reason"] or NO_REASON,
        )
        for row in rows
    )
    return [
        {"tenant": tenant, "hour": hour, "verdict": verdict, "reason": reason, "decided": n}
        for (tenant, hour, verdict, reason), n in sorted(counts.items())
    ]


def upsert(dialect: str) -> Insert:
    """``INSERT … ON CONFLICT DO UPDATE`` adding to the stored count, for ``dialect``."""
    insert = postgresql.insert(h) if dialect == "postgresql" else sqlite.insert(h)
    return insert.on_conflict_do_update(
        index_elements=[h.c.tenant, h.c.hour, h.c.verdict, h.c.reason],
        set_={"decided": h.c.decided + insert.excluded.decided},
    )


UPSERT_SQLITE = upsert("sqlite")
"""For the SQLite group commit's compiled statement."""


async def add(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Count ``rows`` (``decisions`` rows inserted in this transaction) in the roll-up."""
    counts = hour_counts(rows)
    if counts:
        await conn.execute(upsert(conn.dialect.name), counts)

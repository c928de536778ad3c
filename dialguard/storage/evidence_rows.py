"""Evidentiary rows exactly as stored, for the audit entries that vouch for them.

An admin operation reads the rows its change may touch before and after making it, and puts the
digest of every row that changed in its audit entry (:mod:`dialguard.audit.evidence` says which
columns count). Reading them back, rather than digesting what was meant to be written, is what
makes the entry vouch for the row the database holds — defaults, normalisation and side effects
(an expired DNC entry retired by a new one) included.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .schema import consents, decisions, dnc_entries, registered_numbers

_BY_NUMBER: dict[str, tuple[Table, tuple[str, ...]]] = {
    "consents": (consents, ("callee",)),
    "dnc_entries": (dnc_entries, ("number",)),
    "registered_numbers": (registered_numbers, ("number",)),
    "decisions": (decisions, ("caller_e164", "callee_e164")),
}
"""Per evidentiary table, the columns that hold the number a row is about."""


class EvidenceRowRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of_numbers(self, table: str, numbers: Collection[str]) -> list[dict[str, Any]]:
        """Every row of ``table`` about one of ``numbers`` (E.164), removed and revoked ones
        included, as a mapping of column name to value."""
        if not numbers:
            return []
        source, columns = _BY_NUMBER[table]
        wanted = sorted(set(numbers))
        query = select(source).where(or_(*(source.c[name].in_(wanted) for name in columns)))
        return [dict(row._mapping) for row in await self._conn.execute(query)]

    async def by_ids(self, table: str, ids: Collection[int]) -> list[dict[str, Any]]:
        """The rows of ``table`` with these primary keys (``id``)."""
        if not ids:
            return []
        source = _BY_NUMBER[table][0]
        query = select(source).where(source.c.id.in_(sorted(set(ids))))
        return [dict(row._mapping) for row in await self._conn.execute(query)]

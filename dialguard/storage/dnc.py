"""Do-not-call lists: global (regulator/industry), per tenant and per campaign.

An entry is identified by (number, scope, tenant, campaign). Adding one that is already live
changes nothing, so importing the same file twice is harmless. Nothing is ever deleted: removal
stamps ``removed_at``/``removed_by``/``removal_reason`` so the regulator can still see that a
number *was* on a list and who took it off. An expired entry is retired the same way when the
number is added again, which lets the new entry take its place.

The one exception is erasure of a data subject (:mod:`dialguard.rights.erase`): their rows go and
their live opt-outs move to ``dnc_hashed``, keyed by the number's pseudonym. With the subject key
(``number_hash``) this repository matches and removes those too, so an erased person who opted out
stays blocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, String, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.model import DncEntry, DncScope
from ._common import insert_ignoring_conflicts, require_tenants, utcnow
from .evidence import Changes, evidence_columns
from .records import DncRecord, ImportCounts, Outcome, require_e164
from .rights_tables import dnc_hashed as h
from .rows import entry_from, erased_entry_from
from .schema import dnc_entries as t

IMPORT_BATCH = 1000
_EXPIRED = "expired; superseded by a new entry"


def _check(entry: DncEntry) -> None:
    require_e164(entry.number)
    scope = DncScope(entry.scope)
    if scope is DncScope.GLOBAL and (entry.tenant or entry.campaign):
        raise ValueError(f"DNC {entry.number}: a global entry takes no tenant or campaign")
    if scope is DncScope.TENANT and (not entry.tenant or entry.campaign):
        raise ValueError(f"DNC {entry.number}: a tenant entry needs a tenant and no campaign")
    if scope is DncScope.CAMPAIGN and not (entry.tenant and entry.campaign):
        raise ValueError(f"DNC {entry.number}: a campaign entry needs a tenant and a campaign")


def _row(entry: DncEntry) -> dict[str, Any]:
    return {
        "number": entry.number,
        "scope": DncScope(entry.scope).value,
        "tenant": entry.tenant,
        "campaign": entry.campaign,
        "source": entry.source,
        "reason": entry.reason,
        "added_at": entry.added_at,
        "expires_at": entry.expires_at,
        "added_by": entry.added_by,
    }


def _live(table: Table = t) -> ColumnElement[bool]:
    return table.c.removed_at.is_(None)


def _applies(table: Table) -> ColumnElement[bool]:
    """Live and unexpired at ``:now``, and global, ``:tenant``'s own, or ``:campaign``'s (a NULL
    ``:campaign`` matches no campaign entry)."""
    tenant = bindparam("tenant", type_=String(64))
    campaign = bindparam("campaign", type_=String(128))
    applies = (
        (table.c.scope == DncScope.GLOBAL.value)
        | ((table.c.scope == DncScope.TENANT.value) & (table.c.tenant == tenant))
        | (
            (table.c.scope == DncScope.CAMPAIGN.value)
            & (table.c.tenant == tenant)
            & (table.c.campaign == campaign)
        )
    )
    unexpired = table.c.expires_at.is_(None) | (table.c.expires_at > bindparam("now"))
    return _live(table) & unexpired & applies


MATCHING = (
    select(t)
    .where((t.c.number == bindparam("number")) & _applies(t))
    .order_by(t.c.added_at, t.c.id)
)
"""``number``, ``tenant``, ``campaign``, ``now``: the entries that bar the call (the call path
runs this too, see :mod:`dialguard.storage.facts`)."""

MATCHING_ERASED = (
    select(h)
    .where((h.c.number_hash == bindparam("number_hash")) & _applies(h))
    .order_by(h.c.added_at, h.c.id)
)
"""The same for opt-outs kept by pseudonym after erasure (``number_hash``)."""


def _listed(table: Table) -> ColumnElement[bool]:
    """Live and unexpired at ``:now``, on any list."""
    unexpired = table.c.expires_at.is_(None) | (table.c.expires_at > bindparam("now"))
    return _live(table) & unexpired


LISTED = (
    select(t)
    .where((t.c.number == bindparam("number")) & _listed(t))
    .order_by(t.c.scope, t.c.tenant, t.c.campaign, t.c.id)
)
LISTED_ERASED = (
    select(h)
    .where((h.c.number_hash == bindparam("number_hash")) & _listed(h))
    .order_by(h.c.scope, h.c.tenant, h.c.campaign, h.c.id)
)


def _same_list(
    table: Table, scope: DncScope, tenant: str | None, campaign: str | None
) -> ColumnElement[bool]:
    return (
        (table.c.scope == DncScope(scope).value)
        & (func.coalesce(table.c.tenant, "") == (tenant or ""))
        & (func.coalesce(table.c.campaign, "") == (campaign or ""))
    )


def _batches(entries: Iterable[DncEntry], size: int) -> Iterator[list[DncEntry]]:
    iterator = iter(entries)
    while batch := list(islice(iterator, size)):
        yield batch


class DncRepository:
    def __init__(
        self,
        conn: AsyncConnection,
        changes: Changes,
        number_hash: Callable[[str], str] | None = None,
    ) -> None:
        self._conn = conn
        self._changes = changes
        self._hash = number_hash

    async def add(self, entry: DncEntry) -> Outcome:
        """``CREATED``, or ``UNCHANGED`` when the same live entry exists (it is left as it is)."""
        counts = await self._insert([entry])
        return Outcome.CREATED if counts.inserted else Outcome.UNCHANGED

    async def add_many(
        self, entries: Iterable[DncEntry], *, batch_size: int = IMPORT_BATCH
    ) -> ImportCounts:
        """Stream ``entries`` in one statement per ``batch_size`` rows; duplicates (of live rows or
        within the input) count as already present. All of it is one transaction: the caller may
        call this per chunk in separate transactions for a file too big for one."""
        total = ImportCounts()
        for batch in _batches(entries, batch_size):
            total += await self._insert(batch)
        return total

    async def _insert(self, batch: Sequence[DncEntry]) -> ImportCounts:
        for entry in batch:
            _check(entry)
        await require_tenants(self._conn, {entry.tenant for entry in batch})
        first = min(batch, key=lambda entry: entry.added_at)
        retired = await self._conn.execute(
            update(t)
            .where(
                t.c.number.in_(sorted({entry.number for entry in batch}))
                & _live()
                & (t.c.expires_at <= first.added_at)
            )
            .values(removed_at=first.added_at, removed_by=first.added_by, removal_reason=_EXPIRED)
            .returning(*evidence_columns(t.name))
        )
        self._changes.note_rows(t.name, retired.mappings().all())
        inserted = await self._conn.execute(
            insert_ignoring_conflicts(self._conn, t).returning(*evidence_columns(t.name)),
            [_row(entry) for entry in batch],
        )
        rows = inserted.mappings().all()
        self._changes.note_rows(t.name, rows)
        return ImportCounts(inserted=len(rows), already_present=len(batch) - len(rows))

    async def remove(
        self,
        number: str,
        *,
        scope: DncScope,
        tenant: str | None = None,
        campaign: str | None = None,
        reason: str,
        by: str,
        at: datetime | None = None,
    ) -> int:
        """Take the live entry off its list, keeping it as history; 0 when there was none."""
        require_e164(number)
        values = {"removed_at": at or utcnow(), "removed_by": by, "removal_reason": reason}
        result = await self._conn.execute(
            update(t)
            .where((t.c.number == number) & _same_list(t, scope, tenant, campaign) & _live())
            .values(**values)
            .returning(t.c.id)
        )
        ids = result.scalars().all()
        self._changes.note(t.name, ids)
        removed = len(ids)
        if self._hash is not None:
            hashed = await self._conn.execute(
                update(h)
                .where(
                    (h.c.number_hash == self._hash(number))
                    & _same_list(h, scope, tenant, campaign)
                    & _live(h)
                )
                .values(**values)
            )
            removed += hashed.rowcount
        return removed

    async def matching(
        self, number: str, tenant: str, campaign: str | None, now: datetime
    ) -> tuple[DncEntry, ...]:
        """Live, unexpired entries that bar calls to ``number`` by ``tenant`` (in ``campaign``):
        every global one, the tenant's own, and the campaign's, including those kept by
        pseudonym after the number's owner was erased."""
        require_e164(number)
        params = {"number": number, "tenant": tenant, "campaign": campaign, "now": now}
        found = [entry_from(row) for row in await self._conn.execute(MATCHING, params)]
        if self._hash is not None:
            params["number_hash"] = self._hash(number)
            hashed = await self._conn.execute(MATCHING_ERASED, params)
            found.extend(erased_entry_from(number, row) for row in hashed)
        return tuple(found)

    async def listed(self, number: str, now: datetime) -> tuple[DncEntry, ...]:
        """Live, unexpired entries for ``number`` on every list (global, each tenant's, each
        campaign's), those kept by pseudonym after erasure included: where it is listed at
        all, whoever would call it."""
        require_e164(number)
        params: dict[str, object] = {"number": number, "now": now}
        found = [entry_from(row) for row in await self._conn.execute(LISTED, params)]
        if self._hash is not None:
            params["number_hash"] = self._hash(number)
            hashed = await self._conn.execute(LISTED_ERASED, params)
            found.extend(erased_entry_from(number, row) for row in hashed)
        return tuple(found)

    async def history(self, number: str) -> tuple[DncRecord, ...]:
        """Every entry ever made for ``number``, live, expired or removed, oldest first."""
        require_e164(number)
        rows = await self._conn.execute(
            select(t).where(t.c.number == number).order_by(t.c.added_at, t.c.id)
        )
        return tuple(
            DncRecord(
                entry=entry_from(row),
                removed_at=row.removed_at,
                removed_by=row.removed_by,
                removal_reason=row.removal_reason,
            )
            for row in rows
        )

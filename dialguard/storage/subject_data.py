"""Every row that holds one phone number, found, exported, erased or restricted in SQL.

This is the one module that knows where numbers live; a table added later that stores numbers
must be added here, and ``tests/integration/test_rights_erasure.py`` (which scans every text
column of every table) fails until it is. Registered access numbers are the tenant's filing with
the regulator, not a person's data, so they are exported but never erased.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..numbers import mask
from .evidence import Changes
from .recording_tables import recordings
from .rights_tables import dnc_hashed, dsr_requests
from .row_digests import new_salt
from .schema import (
    audit_log,
    consents,
    contacts,
    decisions,
    dnc_entries,
    frequency_resets,
    registered_numbers,
    tenants,
)

_RESTRICTABLE = (decisions, recordings, consents)


@dataclass(frozen=True)
class Held:
    """A row kept under a legal retention period: restricted now, erased after ``until``."""

    table: str
    id: int
    basis: str
    until: datetime | None
    """None: no end known yet (legal hold, or a retention clock not yet started)."""


@dataclass(frozen=True)
class DecisionRow:
    id: int
    decided_at: datetime
    tenant: str
    callee: str | None
    consent_ref: str | None
    retention_class: str | None
    retain_until: datetime | None


@dataclass(frozen=True)
class ConsentRow:
    id: int
    tenant: str
    evidence_ref: str


def _plain(row: Row[Any, Any, Any, Any, Any] | Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)


class SubjectDataRepository:
    """Every change it makes to an evidentiary row is noted for the erasure's audit entry."""

    def __init__(self, conn: AsyncConnection, changes: Changes) -> None:
        self._conn = conn
        self._changes = changes

    async def _rows(self, table: Table, *conditions: Any) -> list[dict[str, Any]]:
        query = select(table).where(*conditions).order_by(*table.primary_key.columns)
        return [_plain(row) for row in await self._conn.execute(query)]

    async def export(self, number: str, digest: str, audit_subject: str) -> dict[str, Any]:
        """Everything held about ``number``, restricted rows included (a subject's own access
        request is one of the uses restriction still allows)."""
        d, r = decisions.c, recordings.c
        return {
            "registered_numbers": await self._rows(
                registered_numbers, registered_numbers.c.number == number
            ),
            "dnc": await self._rows(dnc_entries, dnc_entries.c.number == number),
            "dnc_kept_after_erasure": await self._rows(
                dnc_hashed, dnc_hashed.c.number_hash == digest
            ),
            "consents": await self._rows(consents, consents.c.callee == number),
            "contact": await self._rows(contacts, contacts.c.number == number),
            "frequency_resets": await self._rows(
                frequency_resets, frequency_resets.c.callee == number
            ),
            "decisions": await self._rows(
                decisions, (d.caller_e164 == number) | (d.callee_e164 == number)
            ),
            "recordings": await self._rows(recordings, (r.caller == number) | (r.callee == number)),
            "requests": await self._rows(dsr_requests, dsr_requests.c.subject_hash == digest),
            "audit": await self._rows(audit_log, audit_log.c.subject == audit_subject),
        }

    async def erase_unretained(
        self, number: str, digest: str, now: datetime, kept_consents: Sequence[int] = ()
    ) -> dict[str, int]:
        """Delete what no law requires keeping: consents (but ``kept_consents``, which retained
        decisions relied on), contact flags, frequency resets and DNC rows, after copying the
        live opt-outs to ``dnc_hashed`` so they keep blocking."""
        e = dnc_entries.c
        live = await self._conn.execute(
            select(e.scope, e.tenant, e.campaign, e.added_at, e.expires_at).where(
                (e.number == number)
                & e.removed_at.is_(None)
                & (e.expires_at.is_(None) | (e.expires_at > now))
            )
        )
        kept = [{**_plain(row), "number_hash": digest, "erased_at": now} for row in live]
        if kept:
            await self._conn.execute(dnc_hashed.insert(), kept)
        counts = {"dnc_kept_by_keyed_hash": len(kept)}
        c = consents.c
        for name, table, condition in (
            ("dnc", dnc_entries, e.number == number),
            ("consents", consents, (c.callee == number) & c.id.not_in(kept_consents)),
        ):
            deleted = await self._conn.execute(delete(table).where(condition).returning(table.c.id))
            ids = deleted.scalars().all()
            self._changes.note(table.name, ids)
            counts[name] = len(ids)
        for name, table, column in (
            ("contact", contacts, contacts.c.number),
            ("frequency_resets", frequency_resets, frequency_resets.c.callee),
        ):
            counts[name] = (
                await self._conn.execute(delete(table).where(column == number))
            ).rowcount
        return counts

    async def consents_of(self, number: str) -> tuple[ConsentRow, ...]:
        c = consents.c
        rows = await self._conn.execute(
            select(c.id, c.tenant, c.evidence_ref).where(c.callee == number).order_by(c.id)
        )
        return tuple(ConsentRow(*row) for row in rows)

    async def decisions_of(self, number: str) -> tuple[DecisionRow, ...]:
        d = decisions.c
        rows = await self._conn.execute(
            select(
                d.id,
                d.decided_at,
                d.tenant,
                d.callee_e164,
                d.consent_ref,
                d.retention_class,
                d.retain_until,
            ).where((d.caller_e164 == number) | (d.callee_e164 == number))
        )
        return tuple(DecisionRow(*row) for row in rows)

    async def industries(self) -> dict[str, str]:
        rows = await self._conn.execute(select(tenants.c.name, tenants.c.industry))
        return {name: industry for name, industry in rows}

    async def delete_decisions(self, ids: Sequence[int]) -> int:
        return await self._delete(decisions, decisions.c.decision_id, ids)

    async def delete_consents(self, ids: Sequence[int]) -> int:
        return await self._delete(consents, consents.c.id, ids)

    async def _delete(self, table: Table, key: Any, ids: Sequence[int]) -> int:
        """Delete rows by ``id``, noting them under their evidence ``key``."""
        if not ids:
            return 0
        deleted = await self._conn.execute(delete(table).where(table.c.id.in_(ids)).returning(key))
        keys = deleted.scalars().all()
        self._changes.note(table.name, keys)
        return len(keys)

    async def restrict(self, held: Sequence[Held]) -> None:
        for table in _RESTRICTABLE:
            params = [
                {"b_id": h.id, "b_basis": h.basis, "b_until": h.until}
                for h in held
                if h.table == table.name
            ]
            if params:
                await self._conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        restricted=True,
                        restricted_basis=bindparam("b_basis"),
                        restricted_until=bindparam("b_until"),
                    ),
                    params,
                )
                await self._note(table, [h.id for h in held if h.table == table.name])

    async def _note(self, table: Table, ids: Sequence[int]) -> None:
        """Note rows by ``id`` under their evidence key (decisions: the decision id)."""
        if table is decisions:
            found = await self._conn.execute(
                select(decisions.c.decision_id).where(decisions.c.id.in_(ids))
            )
            self._changes.note(table.name, found.scalars().all())
        else:
            self._changes.note(table.name, ids)

    async def recordings_of(self, number: str) -> tuple[Row[Any], ...]:
        r = recordings.c
        rows = await self._conn.execute(
            select(recordings).where((r.caller == number) | (r.callee == number))
        )
        return tuple(rows)

    async def scrub_tombstones(self, ids: Sequence[int] | None = None) -> int:
        """Mask the numbers on deleted recordings' tombstones (the proof of deletion needs no
        number) and lift their restriction: nothing personal is left in them. ``ids`` None:
        every restricted tombstone (the sweep)."""
        r = recordings.c
        which = r.restricted.is_(True) if ids is None else r.id.in_(ids)
        condition = r.deleted_at.is_not(None) & which
        rows = (await self._conn.execute(select(r.id, r.caller, r.callee).where(condition))).all()
        for row in rows:
            # A fresh salt: the old one with the masked row would let the digests of the
            # unmasked row, kept in the audit chain, be tested against candidate numbers.
            await self._conn.execute(
                update(recordings)
                .where(r.id == row.id)
                .values(
                    caller=mask(row.caller),
                    callee=mask(row.callee),
                    restricted=False,
                    restricted_basis=None,
                    restricted_until=None,
                    evidence_salt=new_salt(),
                )
            )
        self._changes.note(recordings.name, [row.id for row in rows])
        return len(rows)

    async def expired_restricted(self, table_name: str, now: datetime) -> tuple[int, ...]:
        """Restricted rows of ``decisions`` or ``consents`` whose retention has ended."""
        table = decisions if table_name == decisions.name else consents
        rows = await self._conn.execute(
            select(table.c.id).where(
                table.c.restricted.is_(True)
                & table.c.restricted_until.is_not(None)
                & (table.c.restricted_until <= now)
            )
        )
        return tuple(rows.scalars())

    async def still_restricted(self, held: Sequence[Held]) -> bool:
        for table in _RESTRICTABLE:
            ids = [h.id for h in held if h.table == table.name]
            if ids:
                found = await self._conn.execute(
                    select(table.c.id)
                    .where(table.c.id.in_(ids) & table.c.restricted.is_(True))
                    .limit(1)
                )
                if found.first() is not None:
                    return True
        return False

    async def legacy_audit_entries(self, number: str) -> int:
        """Audit entries that name the raw number (written before subjects were pseudonymised);
        the hash chain makes them immutable, so erasure can only report them."""
        rows = await self._conn.execute(
            select(audit_log.c.seq).where(audit_log.c.subject == number)
        )
        return len(rows.all())

"""Tenants and the register of our access numbers (what was filed with the regulator)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.filings import Change, FilingChange
from ..policy.model import NumberType, RegisteredNumber
from ._common import insert_ignoring_conflicts, require_tenants, utcnow
from .columns import TENANT_NAME_MAX
from .errors import UnknownTenant
from .evidence import Changes
from .records import Outcome, Tenant, require_e164
from .rows import registration_from, tenant_from
from .schema import number_filings, registered_numbers, tenants

TENANT_BY_NAME = select(tenants).where(tenants.c.name == bindparam("name"))
"""``name``: the tenant (the call path runs this too, see :mod:`dialguard.storage.facts`)."""

ALL_TENANTS = select(tenants).order_by(tenants.c.name)
"""Every tenant, by name."""

_f = number_filings
_live = registered_numbers.c.ended_at.is_(None)
REGISTRATIONS_OF_NUMBER = (
    select(
        _f.c.id,
        _f.c.number,
        _f.c.tenant,
        _f.c.purposes,
        _f.c.inbound_enabled,
        _f.c.outbound_enabled,
        _f.c.number_type,
        _f.c.filing_ref,
        _f.c.filed_on,
        _f.c.active,
        _f.c.number_class,
        _f.c.effective_from,
        _f.c.expires_on,
    )
    .join(registered_numbers, registered_numbers.c.id == _f.c.registration_id)
    .where((_f.c.number == bindparam("number")) & _live & (_f.c.change != Change.ENDED.value))
    .order_by(_f.c.tenant, _f.c.id)
)
"""``number``: every version of every live registration of it (the call path runs this: the
policy picks the version in force at the call's instant)."""


class TenantRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def ensure(
        self, name: str, industry: str = "general", *, at: datetime | None = None
    ) -> Tenant:
        """The tenant called ``name``, created (with ``industry``) if it does not exist yet."""
        if not name or len(name) > TENANT_NAME_MAX:
            raise ValueError(f"tenant name must be 1–{TENANT_NAME_MAX} characters, got {len(name)}")
        await self._conn.execute(
            insert_ignoring_conflicts(self._conn, tenants).values(
                name=name, industry=industry, created_at=at or utcnow()
            )
        )
        tenant = await self.get(name)
        assert tenant is not None
        return tenant

    async def set_industry(self, name: str, industry: str) -> Outcome:
        """Change the industry of an existing tenant (it selects rules and retention)."""
        result = await self._conn.execute(
            update(tenants)
            .where((tenants.c.name == name) & (tenants.c.industry != industry))
            .values(industry=industry)
        )
        if result.rowcount:
            return Outcome.UPDATED
        if await self.get(name) is None:
            raise UnknownTenant(name)
        return Outcome.UNCHANGED

    async def get(self, name: str) -> Tenant | None:
        row = (await self._conn.execute(TENANT_BY_NAME, {"name": name})).first()
        return None if row is None else tenant_from(row)

    async def list(self) -> tuple[Tenant, ...]:
        rows = await self._conn.execute(ALL_TENANTS)
        return tuple(tenant_from(row) for row in rows)


def change_from(row: Any) -> FilingChange:
    return FilingChange(
        change_id=row.id,
        change=Change(row.change),
        terms=registration_from(row),
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


def _terms(reg: RegisteredNumber) -> dict[str, Any]:
    return {
        "purposes": sorted(reg.purposes),
        "inbound_enabled": reg.inbound_enabled,
        "outbound_enabled": reg.outbound_enabled,
        "number_type": NumberType(reg.number_type).value,
        "number_class": reg.number_class,
        "filing_ref": reg.filing_ref,
        "filed_on": reg.filed_on,
        "active": reg.active,
        "effective_from": reg.effective_from,
        "expires_on": reg.expires_on,
    }


def same_terms(a: RegisteredNumber, b: RegisteredNumber) -> bool:
    """Whether re-filing ``b`` over ``a`` changes nothing (its effective instant aside)."""
    return replace(a, effective_from=None) == replace(b, effective_from=None)


class NumberHeld(ValueError):
    """The number is registered to another tenant; end that registration first."""

    def __init__(self, number: str, holder: str) -> None:
        self.number = number
        self.holder = holder
        super().__init__(
            f"{number} is registered to tenant {holder!r}: end that registration first "
            "(numbers end), then add it"
        )


class NumberRepository:
    """One ``registered_numbers`` row per registration (a number held by a tenant until it is
    ended; at most one live per number, enforced by a partial unique index) and one
    ``number_filings`` row per version of its filing."""

    def __init__(self, conn: AsyncConnection, changes: Changes) -> None:
        self._conn = conn
        self._changes = changes

    async def _live(self, number: str) -> Any:
        query = select(registered_numbers).where((registered_numbers.c.number == number) & _live)
        return (await self._conn.execute(query)).first()

    async def holder(self, number: str) -> str | None:
        """The tenant holding ``number`` now (its registration not ended), if any."""
        require_e164(number)
        row = await self._live(number)
        return None if row is None else str(row.tenant)

    async def add(
        self, reg: RegisteredNumber, *, at: datetime | None = None, by: str | None = None
    ) -> Outcome:
        """Register ``reg.number`` for ``reg.tenant``, or record a new version of that
        registration's filing (from ``reg.effective_from``); :class:`NumberHeld` when another
        tenant holds the number, even one that registered it a moment ago concurrently."""
        require_e164(reg.number)
        await require_tenants(self._conn, [reg.tenant])
        at = at or utcnow()
        existing = await self._live(reg.number)
        if existing is not None and existing.tenant != reg.tenant:
            raise NumberHeld(reg.number, existing.tenant)
        if existing is None:
            try:
                async with self._conn.begin_nested():
                    created = await self._conn.execute(
                        registered_numbers.insert()
                        .values(
                            number=reg.number,
                            tenant=reg.tenant,
                            created_at=at,
                            updated_at=at,
                            **_terms(reg),
                        )
                        .returning(registered_numbers.c.id)
                    )
            except IntegrityError:
                holder = await self.holder(reg.number)
                raise NumberHeld(reg.number, holder or "another tenant") from None
            registration_id = created.scalar_one()
            self._changes.note(registered_numbers.name, [registration_id])
            await self._version(registration_id, reg, Change.FILED, at, by)
            return Outcome.CREATED
        if same_terms(registration_from(existing), reg):
            return Outcome.UNCHANGED
        await self._version(existing.id, reg, Change.CHANGED, at, by)
        current = existing.effective_from
        if reg.effective_from is None or current is None or reg.effective_from >= current:
            await self._conn.execute(
                update(registered_numbers)
                .where(registered_numbers.c.id == existing.id)
                .values(updated_at=at, **_terms(reg))
            )
            self._changes.note(registered_numbers.name, [existing.id])
        return Outcome.UPDATED

    async def _version(
        self,
        registration_id: int,
        reg: RegisteredNumber,
        change: Change,
        at: datetime,
        by: str | None,
    ) -> int:
        created = await self._conn.execute(
            number_filings.insert()
            .values(
                registration_id=registration_id,
                number=reg.number,
                tenant=reg.tenant,
                change=change.value,
                recorded_at=at,
                recorded_by=by,
                **_terms(reg),
            )
            .returning(number_filings.c.id)
        )
        return int(created.scalar_one())

    async def end(
        self,
        number: str,
        tenant: str,
        *,
        at: datetime | None = None,
        by: str | None = None,
        filed_on: date | None = None,
    ) -> RegisteredNumber | None:
        """End ``tenant``'s registration of ``number`` (the number is then free for another
        tenant); the registration as it was, or None when ``tenant`` held none."""
        require_e164(number)
        at = at or utcnow()
        existing = await self._live(number)
        if existing is None or existing.tenant != tenant:
            return None
        before = registration_from(existing)
        await self._conn.execute(
            update(registered_numbers)
            .where(registered_numbers.c.id == existing.id)
            .values(ended_at=at, updated_at=at)
        )
        self._changes.note(registered_numbers.name, [existing.id])
        ended = replace(before, active=False, effective_from=at, filed_on=filed_on)
        await self._version(existing.id, ended, Change.ENDED, at, by)
        return before

    async def report(self, change_id: int, filed_on: date) -> FilingChange | None:
        """Record that change ``change_id`` was reported to the regulator on ``filed_on``; the
        change as it now stands, or None when there is no such change."""
        await self._conn.execute(
            update(number_filings).where(number_filings.c.id == change_id).values(filed_on=filed_on)
        )
        return await self.change(change_id)

    async def change(self, change_id: int) -> FilingChange | None:
        """One recorded version, by its id (``numbers history``)."""
        query = select(number_filings).where(number_filings.c.id == change_id)
        row = (await self._conn.execute(query)).first()
        return None if row is None else change_from(row)

    async def history(self, number: str) -> tuple[FilingChange, ...]:
        """Every version of every registration of ``number``, ended ones included, in the
        order they were recorded."""
        require_e164(number)
        rows = await self._conn.execute(
            select(number_filings)
            .where(number_filings.c.number == number)
            .order_by(number_filings.c.id)
        )
        return tuple(change_from(row) for row in rows)

    async def changes(self, tenant: str | None = None) -> tuple[FilingChange, ...]:
        """Every recorded version (``numbers overdue``), optionally of one tenant."""
        query = select(number_filings).order_by(number_filings.c.id)
        if tenant is not None:
            query = query.where(number_filings.c.tenant == tenant)
        return tuple(change_from(row) for row in await self._conn.execute(query))

    async def versions(self, number: str) -> tuple[RegisteredNumber, ...]:
        """Every version of every live registration of ``number`` (what the gate weighs)."""
        require_e164(number)
        rows = await self._conn.execute(REGISTRATIONS_OF_NUMBER, {"number": number})
        return tuple(registration_from(row) for row in rows)

    async def get(self, number: str) -> tuple[RegisteredNumber, ...]:
        """The live registration of ``number`` (at most one), with its latest terms."""
        require_e164(number)
        row = await self._live(number)
        return () if row is None else (registration_from(row),)

    async def list(
        self,
        tenant: str | None = None,
        *,
        active_only: bool = False,
        include_ended: bool = False,
    ) -> tuple[RegisteredNumber, ...]:
        query = select(registered_numbers).order_by(
            registered_numbers.c.tenant, registered_numbers.c.number, registered_numbers.c.id
        )
        if tenant is not None:
            query = query.where(registered_numbers.c.tenant == tenant)
        if active_only:
            query = query.where(registered_numbers.c.active.is_(True))
        if not include_ended:
            query = query.where(_live)
        return tuple(registration_from(row) for row in await self._conn.execute(query))

    async def deactivate(self, number: str, tenant: str, *, at: datetime | None = None) -> bool:
        """Mark the registration inactive (kept as evidence); False if there was none active."""
        require_e164(number)
        result = await self._conn.execute(
            update(registered_numbers)
            .where(
                (registered_numbers.c.number == number)
                & (registered_numbers.c.tenant == tenant)
                & registered_numbers.c.active.is_(True)
                & _live
            )
            .values(active=False, updated_at=at or utcnow())
            .returning(registered_numbers.c.id)
        )
        ids = result.scalars().all()
        self._changes.note(registered_numbers.name, ids)
        return bool(ids)

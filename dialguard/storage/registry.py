"""Tenants and the register of our access numbers (what was filed with the regulator)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.model import NumberType, RegisteredNumber
from ._common import insert_ignoring_conflicts, require_tenants, utcnow
from .errors import UnknownTenant
from .evidence import Changes
from .records import Outcome, Tenant, require_e164
from .schema import TENANT_NAME_MAX, registered_numbers, tenants

TENANT_BY_NAME = select(tenants).where(tenants.c.name == bindparam("name"))
"""``name``: the tenant (the call path runs this too, see :mod:`dialguard.storage.facts`)."""

REGISTRATIONS_OF_NUMBER = (
    select(registered_numbers)
    .where(registered_numbers.c.number == bindparam("number"))
    .order_by(registered_numbers.c.tenant)
)
"""``number``: every tenant's registration of it, active or not."""


def tenant_from(row: Any) -> Tenant:
    """A row of ``tenants`` (a SQLAlchemy row or the call path's named tuple)."""
    return Tenant(id=row.id, name=row.name, industry=row.industry, created_at=row.created_at)


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
        rows = await self._conn.execute(select(tenants).order_by(tenants.c.name))
        return tuple(tenant_from(row) for row in rows)


def registration_from(row: Any) -> RegisteredNumber:
    """A row of ``registered_numbers``."""
    return RegisteredNumber(
        number=row.number,
        tenant=row.tenant,
        purposes=frozenset(row.purposes),
        inbound_enabled=row.inbound_enabled,
        outbound_enabled=row.outbound_enabled,
        number_type=NumberType(row.number_type),
        filing_ref=row.filing_ref,
        filed_on=row.filed_on,
        active=row.active,
    )


def _values(reg: RegisteredNumber) -> dict[str, Any]:
    return {
        "purposes": sorted(reg.purposes),
        "inbound_enabled": reg.inbound_enabled,
        "outbound_enabled": reg.outbound_enabled,
        "number_type": NumberType(reg.number_type).value,
        "filing_ref": reg.filing_ref,
        "filed_on": reg.filed_on,
        "active": reg.active,
    }


class NumberRepository:
    """One row per (number, tenant); a number registered by two tenants is two rows."""

    def __init__(self, conn: AsyncConnection, changes: Changes) -> None:
        self._conn = conn
        self._changes = changes

    async def add(self, reg: RegisteredNumber, *, at: datetime | None = None) -> Outcome:
        """Register ``reg.number`` for ``reg.tenant``, or update that registration."""
        require_e164(reg.number)
        await require_tenants(self._conn, [reg.tenant])
        at = at or utcnow()
        key = (registered_numbers.c.number == reg.number) & (
            registered_numbers.c.tenant == reg.tenant
        )
        existing = (await self._conn.execute(select(registered_numbers).where(key))).first()
        if existing is None:
            created = await self._conn.execute(
                registered_numbers.insert()
                .values(
                    number=reg.number,
                    tenant=reg.tenant,
                    created_at=at,
                    updated_at=at,
                    **_values(reg),
                )
                .returning(registered_numbers.c.id)
            )
            self._changes.note(registered_numbers.name, created.scalars().all())
            return Outcome.CREATED
        if registration_from(existing) == reg:
            return Outcome.UNCHANGED
        await self._conn.execute(
            update(registered_numbers).where(key).values(updated_at=at, **_values(reg))
        )
        self._changes.note(registered_numbers.name, [existing.id])
        return Outcome.UPDATED

    async def get(self, number: str) -> tuple[RegisteredNumber, ...]:
        """Every tenant's registration of ``number``, active or not."""
        require_e164(number)
        rows = await self._conn.execute(REGISTRATIONS_OF_NUMBER, {"number": number})
        return tuple(registration_from(row) for row in rows)

    async def list(
        self, tenant: str | None = None, *, active_only: bool = False
    ) -> tuple[RegisteredNumber, ...]:
        query = select(registered_numbers).order_by(
            registered_numbers.c.tenant, registered_numbers.c.number
        )
        if tenant is not None:
            query = query.where(registered_numbers.c.tenant == tenant)
        if active_only:
            query = query.where(registered_numbers.c.active.is_(True))
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
            )
            .values(active=False, updated_at=at or utcnow())
            .returning(registered_numbers.c.id)
        )
        ids = result.scalars().all()
        self._changes.note(registered_numbers.name, ids)
        return bool(ids)

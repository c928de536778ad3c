"""What we know about the people we call: their consents and their contact flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..policy.model import ConsentRecord, ContactFlags
from ._common import require_tenants, utcnow
from .evidence import Changes
from .records import Outcome, require_e164
from .rows import consent_from, contact_from
from .schema import consents, contacts

CONSENTS_OF_CALLEE = (
    select(consents)
    .where(
        (consents.c.callee == bindparam("callee"))
        & (consents.c.tenant == bindparam("tenant"))
        & consents.c.restricted.is_(False)
    )
    .order_by(consents.c.given_at, consents.c.id)
)
"""``callee``, ``tenant``: every consent record, revoked and expired included, oldest first (the
call path runs this too, see :mod:`dialguard.storage.facts`). Restricted records — kept after
an erasure request only as the evidence a retained decision relied on — are not among them."""

CONTACT_OF_NUMBER = select(contacts).where(contacts.c.number == bindparam("number"))
"""``number``: its contact flags, if any."""


class ConsentRepository:
    """Consent records are never edited except to stamp ``revoked_at``: each is evidence."""

    def __init__(self, conn: AsyncConnection, changes: Changes) -> None:
        self._conn = conn
        self._changes = changes

    async def add(
        self,
        callee: str,
        tenant: str,
        purpose: str,
        *,
        evidence_ref: str,
        channel: str,
        given_at: datetime,
        expires_at: datetime | None = None,
    ) -> ConsentRecord:
        require_e164(callee)
        await require_tenants(self._conn, [tenant])
        row = (
            await self._conn.execute(
                consents.insert()
                .values(
                    callee=callee,
                    tenant=tenant,
                    purpose=purpose,
                    evidence_ref=evidence_ref,
                    channel=channel,
                    given_at=given_at,
                    expires_at=expires_at,
                )
                .returning(*consents.c)
            )
        ).one()
        self._changes.note("consents", [row.id])
        return consent_from(row)

    async def revoke(self, callee: str, tenant: str, purpose: str | None, at: datetime) -> int:
        """Revoke the callee's live consents to ``tenant`` for ``purpose`` (None: every purpose);
        returns how many were revoked."""
        require_e164(callee)
        condition = (
            (consents.c.callee == callee)
            & (consents.c.tenant == tenant)
            & consents.c.revoked_at.is_(None)
        )
        if purpose is not None:
            condition = condition & (consents.c.purpose == purpose)
        result = await self._conn.execute(
            update(consents).where(condition).values(revoked_at=at).returning(consents.c.id)
        )
        revoked = result.scalars().all()
        self._changes.note("consents", revoked)
        return len(revoked)

    async def for_callee(self, callee: str, tenant: str) -> tuple[ConsentRecord, ...]:
        """All of the callee's consent records with ``tenant``, revoked and expired included,
        oldest first: the policy decides which still count."""
        require_e164(callee)
        rows = await self._conn.execute(CONSENTS_OF_CALLEE, {"callee": callee, "tenant": tenant})
        return tuple(consent_from(row) for row in rows)

    async def of_tenant(self, tenant: str, limit: int = 1000) -> tuple[ConsentRecord, ...]:
        """``tenant``'s consent records, every callee, newest first (at most ``limit``)."""
        query = (
            select(consents)
            .where((consents.c.tenant == tenant) & consents.c.restricted.is_(False))
            .order_by(consents.c.given_at.desc(), consents.c.id.desc())
            .limit(limit)
        )
        return tuple(consent_from(row) for row in await self._conn.execute(query))


class ContactRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def upsert(self, flags: ContactFlags, *, at: datetime | None = None) -> Outcome:
        require_e164(flags.number)
        current = await self.get(flags.number)
        if current == flags:
            return Outcome.UNCHANGED
        values = {"minor": flags.minor, "guardian": flags.guardian, "updated_at": at or utcnow()}
        if current is None:
            await self._conn.execute(contacts.insert().values(number=flags.number, **values))
            return Outcome.CREATED
        await self._conn.execute(
            update(contacts).where(contacts.c.number == flags.number).values(**values)
        )
        return Outcome.UPDATED

    async def get(self, number: str) -> ContactFlags | None:
        require_e164(number)
        row = (await self._conn.execute(CONTACT_OF_NUMBER, {"number": number})).first()
        return None if row is None else contact_from(row)

"""Campaign scripts in the database: register, look up, and the gate's approval question."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ._common import require_tenants
from .campaign_tables import campaign_scripts
from .script_records import CampaignScript, ScriptStatus


def _script(row: Row[Any]) -> CampaignScript:
    return CampaignScript(
        id=row.id,
        tenant=row.tenant,
        campaign=row.campaign,
        status=ScriptStatus(row.status),
        text=row.text,
        sha256=row.sha256,
        file_name=row.file_name,
        phrase_packs=tuple(row.phrase_packs),
        phrase_version=row.phrase_version,
        hits=tuple(row.hits),
        registered_at=row.registered_at,
        registered_by=row.registered_by,
    )


SCRIPT_APPROVED = select(
    exists().where(
        (campaign_scripts.c.tenant == bindparam("tenant"))
        & (campaign_scripts.c.campaign == bindparam("campaign"))
        & (campaign_scripts.c.status == ScriptStatus.APPROVED.value)
    )
)
"""``tenant``, ``campaign``: has the campaign an approved script? (The call path runs this too,
see :mod:`dialguard.storage.facts`.)"""


class ScriptRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, script: CampaignScript) -> CampaignScript:
        """Store a registration (``script.id`` is ignored); returns it with its id."""
        await require_tenants(self._conn, [script.tenant])
        row = (
            await self._conn.execute(
                campaign_scripts.insert()
                .values(
                    tenant=script.tenant,
                    campaign=script.campaign,
                    status=script.status.value,
                    text=script.text,
                    sha256=script.sha256,
                    file_name=script.file_name,
                    phrase_packs=list(script.phrase_packs),
                    phrase_version=script.phrase_version,
                    hits=list(script.hits),
                    registered_at=script.registered_at,
                    registered_by=script.registered_by,
                )
                .returning(*campaign_scripts.c)
            )
        ).one()
        return _script(row)

    async def approved(self, tenant: str, campaign: str) -> bool:
        """The gate's question: may calls be made for this tenant's campaign?"""
        params = {"tenant": tenant, "campaign": campaign}
        return bool((await self._conn.execute(SCRIPT_APPROVED, params)).scalar())

    async def get(self, script_id: int) -> CampaignScript | None:
        query = select(campaign_scripts).where(campaign_scripts.c.id == script_id)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _script(row)

    async def list(
        self, tenant: str | None = None, campaign: str | None = None
    ) -> tuple[CampaignScript, ...]:
        """Registrations, oldest first, optionally of one tenant and/or campaign."""
        query = select(campaign_scripts).order_by(campaign_scripts.c.id)
        if tenant is not None:
            query = query.where(campaign_scripts.c.tenant == tenant)
        if campaign is not None:
            query = query.where(campaign_scripts.c.campaign == campaign)
        return tuple(_script(row) for row in await self._conn.execute(query))

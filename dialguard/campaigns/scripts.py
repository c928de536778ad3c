"""Registering a campaign script: screen it, store the outcome, audit it, in one transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime

from ..storage.errors import UnknownTenant
from ..storage.store import Store
from .records import CampaignScript, ScriptStatus, TextCheck, hit_view
from .screening import PhraseScreen


async def register_script(
    store: Store,
    screen: PhraseScreen,
    *,
    tenant: str,
    campaign: str,
    text: str,
    file_name: str,
    actor: str,
    now: datetime,
) -> tuple[CampaignScript, TextCheck]:
    """Screen ``text`` against the tenant's phrase packs and store it, approved when clean and
    refused (with every hit) when not. Raises :class:`UnknownTenant` for a tenant not created
    with ``dialguard tenants add`` (its industry decides which phrases are banned)."""
    if not campaign.strip():
        raise ValueError("campaign name must not be empty")
    async with store.transaction() as tx:
        known = await tx.tenants.get(tenant)
        if known is None:
            raise UnknownTenant(tenant)
        check = screen.check(known.industry, text)
        script = await tx.scripts.add(
            CampaignScript(
                id=0,
                tenant=tenant,
                campaign=campaign,
                status=ScriptStatus.APPROVED if check.clean else ScriptStatus.REFUSED,
                text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                file_name=file_name,
                phrase_packs=check.packs,
                phrase_version=check.phrase_version,
                hits=tuple(hit_view(hit) for hit in check.hits),
                registered_at=now,
                registered_by=actor,
            )
        )
        await tx.audit.append(
            actor,
            "scripts.add",
            f"{tenant}/{campaign}",
            {
                "script_id": script.id,
                "status": script.status.value,
                "sha256": script.sha256,
                "phrase_version": script.phrase_version,
                "hits": len(check.hits),
            },
        )
    return script, check

"""Banned-phrase screening: campaign scripts (screened and stored, approved or refused) and
texts checked on the spot (agent desktops, SMS gateways). Both are audited: the text by its
SHA-256 and length only, never its words, and the verdict with every hit's phrase and place.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..campaigns.screening import PhraseScreen
from ..storage.errors import UnknownTenant
from ..storage.records import Tenant
from ..storage.script_records import CampaignScript, ScriptStatus, TextCheck, hit_view
from ..storage.store import Store, Transaction
from .audited import Actor, Invalid, record, required_text

CAMPAIGN_LENGTH = 128
MAX_TEXT = 5_000
"""Characters of a text checked on the spot (a script file may be longer)."""


def _fingerprint(text: str) -> dict[str, Any]:
    return {"sha256": _sha256(text), "characters": len(text)}


def _verdict(check: TextCheck) -> dict[str, Any]:
    return {
        "clean": check.clean,
        "packs": list(check.packs),
        "phrase_version": check.phrase_version,
        "hits": [
            {"phrase": h.phrase, "pack": h.pack, "line": h.line, "column": h.column}
            for h in check.hits
        ],
    }


async def _screen(
    tx: Transaction, screen: PhraseScreen, tenant: str, text: str
) -> tuple[Tenant, TextCheck]:
    """``text`` screened against the phrase packs of ``tenant``'s industry."""
    known = await tx.tenants.get(tenant)
    if known is None:
        raise UnknownTenant(tenant)
    return known, screen.check(known.industry, text)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def register_script(
    store: Store,
    actor: Actor,
    screen: PhraseScreen,
    *,
    tenant: str,
    campaign: str,
    text: str,
    file_name: str,
) -> tuple[CampaignScript, TextCheck]:
    """Screen ``text`` against the tenant's phrase packs and store it as ``campaign``'s script,
    approved when clean and refused (with every hit) when not; audited ``scripts.add``. Raises
    :class:`UnknownTenant` for a tenant not created with ``tenants add`` (its industry decides
    which phrases are banned)."""
    campaign = required_text("campaign", campaign)
    if len(campaign) > CAMPAIGN_LENGTH:
        raise Invalid("campaign", f"must be at most {CAMPAIGN_LENGTH} characters")
    async with store.transaction() as tx:
        _, check = await _screen(tx, screen, tenant, text)
        script = await tx.scripts.add(
            CampaignScript(
                id=0,
                tenant=tenant,
                campaign=campaign,
                status=ScriptStatus.APPROVED if check.clean else ScriptStatus.REFUSED,
                text=text,
                sha256=_sha256(text),
                file_name=file_name,
                phrase_packs=check.packs,
                phrase_version=check.phrase_version,
                hits=tuple(hit_view(hit) for hit in check.hits),
                registered_at=actor.now,
                registered_by=actor.name,
            )
        )
        after = {
            "script_id": script.id,
            "status": script.status.value,
            "file_name": file_name,
            "text": _fingerprint(text),
            **_verdict(check),
        }
        await record(
            tx, actor, "scripts.add", f"{tenant}/{campaign}", {"before": None, "after": after}
        )
    return script, check


async def check_text(
    store: Store, actor: Actor, screen: PhraseScreen, *, tenant: str, text: str
) -> tuple[Tenant, TextCheck]:
    """Screen ``text`` for ``tenant`` (nothing is stored but the audit entry ``text.check``:
    the text as it came in, by fingerprint, and the verdict). Raises :class:`UnknownTenant`."""
    if len(text) > MAX_TEXT:
        raise Invalid("text", f"must be at most {MAX_TEXT} characters")
    async with store.transaction() as tx:
        known, check = await _screen(tx, screen, tenant, text)
        detail = {
            "tenant": tenant,
            "industry": known.industry,
            "before": {"text": _fingerprint(text)},
            "after": _verdict(check),
        }
        await record(tx, actor, "text.check", tenant, detail)
    return known, check

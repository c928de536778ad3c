"""Tenant administration shared by the CLI and the admin API: one audited change."""

from __future__ import annotations

from .storage.store import Transaction
from .views import jsonable


async def upsert_tenant(tx: Transaction, actor: str, name: str, industry: str) -> str:
    """Create tenant ``name`` or change its industry; returns created/updated/unchanged."""
    before = await tx.tenants.get(name)
    if before is None:
        await tx.tenants.ensure(name, industry)
        outcome = "created"
    else:
        outcome = (await tx.tenants.set_industry(name, industry)).value
    if outcome != "unchanged":
        await tx.audit.append(
            actor,
            "tenants.add",
            name,
            {"before": jsonable(before), "after": {"name": name, "industry": industry}},
        )
    return outcome

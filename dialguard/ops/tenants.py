"""Tenants: the call centres served, and the industry whose rules apply to each."""

from __future__ import annotations

from typing import Any

from ..policy.model import INDUSTRIES
from ..storage.records import Outcome, Tenant
from ..storage.store import Store
from .audited import Actor, Invalid, record, required_text

NAME_LENGTH = 64
DEFAULT_INDUSTRY = "general"


def _view(tenant: Tenant | None) -> dict[str, Any] | None:
    return None if tenant is None else {"name": tenant.name, "industry": tenant.industry}


async def add_tenant(store: Store, actor: Actor, name: str, industry: str | None = None) -> Outcome:
    """Create tenant ``name`` or set its industry (default ``general``); audited ``tenants.add``
    with before, after and outcome."""
    name = required_text("name", name)
    if len(name) > NAME_LENGTH:
        raise Invalid("name", f"must be at most {NAME_LENGTH} characters")
    industry = industry or DEFAULT_INDUSTRY
    if industry not in INDUSTRIES:
        raise Invalid("industry", f"must be one of {', '.join(INDUSTRIES)}")
    async with store.transaction() as tx:
        before = await tx.tenants.get(name)
        if before is None:
            await tx.tenants.ensure(name, industry, at=actor.now)
            outcome = Outcome.CREATED
        else:
            outcome = await tx.tenants.set_industry(name, industry)
        after = await tx.tenants.get(name)
        detail = {"before": _view(before), "after": _view(after), "outcome": outcome.value}
        await record(tx, actor, "tenants.add", name, detail)
    return outcome

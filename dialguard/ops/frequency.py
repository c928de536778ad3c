"""Frequency caps: making earlier attempts stop counting towards a callee's caps.

The attempts themselves stay on record as evidence; a reset is a marker, audited with when the
counters counted from before and after it and the reason (numbers typed in it masked).
"""

from __future__ import annotations

from ..storage.records import FrequencyReset
from ..storage.store import Store
from .audited import Actor, person, record, required_text
from .vocabulary import known_tenant


async def reset_frequency(
    store: Store, actor: Actor, callee: str, *, tenant: str, reason: str
) -> FrequencyReset:
    """Reset ``callee``'s counters for ``tenant`` (which must exist) now; audited
    ``frequency.reset``."""
    reason = required_text("reason", reason)
    async with store.transaction() as tx:
        tenant = (await known_tenant(tx, tenant)).name
        before = await tx.decisions.last_reset(callee, tenant)
        reset = await tx.decisions.reset_frequency(callee, tenant, actor.now, actor.name, reason)
        detail = {
            "tenant": tenant,
            "reason": reason,
            "before": {"counting_from": before},
            "after": {"counting_from": reset.at},
        }
        await record(tx, actor, "frequency.reset", person(tx, callee), detail)
    return reset

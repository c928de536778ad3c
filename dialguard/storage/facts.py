"""Everything storage knows that bears on one call attempt, gathered for the policy.

This runs for every call, inside the gate's deadline: six indexed point queries in one read-only
transaction, and none of them when the number they concern did not normalise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..policy.model import CallAttempt, Facts
from .store import Transaction


async def lookup_facts(
    tx: Transaction,
    attempt: CallAttempt,
    caller_e164: str | None,
    callee_e164: str | None,
    now: datetime,
    window: timedelta,
) -> Facts:
    """Facts for ``attempt``; ``window`` is the longest frequency window of the policy.

    ``callee_time_zones`` is left empty: it comes from the number, not the database.
    """
    registrations = await tx.numbers.get(caller_e164) if caller_e164 is not None else ()
    tenant = await tx.tenants.get(attempt.tenant)
    industry = tenant.industry if tenant is not None else "general"
    if callee_e164 is None:
        return Facts(
            caller=caller_e164,
            callee=None,
            caller_registrations=registrations,
            tenant_industry=industry,
        )
    return Facts(
        caller=caller_e164,
        callee=callee_e164,
        caller_registrations=registrations,
        tenant_industry=industry,
        dnc=await tx.dnc.matching(callee_e164, attempt.tenant, attempt.campaign, now),
        consents=await tx.consents.for_callee(callee_e164, attempt.tenant),
        recent_attempts=await tx.decisions.recent_allowed(
            callee_e164, attempt.tenant, now - window
        ),
        contact=await tx.contacts.get(callee_e164),
    )

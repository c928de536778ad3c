"""Consent: evidence that a callee agreed to be called by a tenant for a purpose.

Each record is evidence and is never edited except to stamp ``revoked_at``; both changes are
audited with the records before and after (numbers masked) and the ``consents`` rows' evidence.
"""

from __future__ import annotations

from datetime import datetime

from ..policy.model import ConsentRecord
from ..storage.store import Store
from .audited import Actor, Invalid, person, record, required_text
from .vocabulary import Vocabulary, known_tenant


async def add_consent(
    store: Store,
    actor: Actor,
    callee: str,
    *,
    tenant: str,
    purpose: str,
    evidence_ref: str,
    vocabulary: Vocabulary,
    channel: str | None = None,
    given: datetime | None = None,
    expires: datetime | None = None,
) -> ConsentRecord:
    """Record ``callee``'s consent (given now unless ``given``) to calls from an existing
    ``tenant`` for a purpose and on a channel of ``vocabulary``; audited ``consent.add``."""
    purpose = vocabulary.purpose(purpose)
    channel = vocabulary.channel(channel)
    evidence_ref = required_text("evidence", evidence_ref)
    given_at = given or actor.now
    if expires is not None and expires <= given_at:
        raise Invalid("expires", "must be after the time consent was given")
    async with store.transaction() as tx:
        await known_tenant(tx, tenant)
        created = await tx.consents.add(
            callee,
            tenant,
            purpose,
            evidence_ref=evidence_ref,
            channel=channel,
            given_at=given_at,
            expires_at=expires,
        )
        await record(
            tx,
            actor,
            "consent.add",
            person(tx, callee),
            {"before": None, "after": created},
        )
    return created


async def revoke_consent(
    store: Store, actor: Actor, callee: str, *, tenant: str, purpose: str | None = None
) -> int:
    """Revoke ``callee``'s live consents to ``tenant`` for ``purpose`` (None: every purpose),
    effective for the next call; returns how many. Audited ``consent.revoke`` even when none
    was live (the request, and that it changed nothing, is evidence too)."""
    tenant = required_text("tenant", tenant)
    async with store.transaction() as tx:
        before = [
            c
            for c in await tx.consents.for_callee(callee, tenant)
            if c.revoked_at is None and purpose in (None, c.purpose)
        ]
        count = await tx.consents.revoke(callee, tenant, purpose, actor.now)
        revoked = {c.consent_id for c in before}
        after = [c for c in await tx.consents.for_callee(callee, tenant) if c.consent_id in revoked]
        detail = {
            "tenant": tenant,
            "purpose": purpose,
            "before": before,
            "after": after,
            "revoked": count,
        }
        await record(tx, actor, "consent.revoke", person(tx, callee), detail)
    return count

"""Consent records and contact flags, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dialguard.policy.model import ContactFlags
from dialguard.storage import Outcome, Store, UnknownTenant

CALLEE = "+8613800138000"
T0 = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)


async def add_consent(store: Store, purpose: str, given_at: datetime = T0) -> int:
    async with store.transaction() as tx:
        record = await tx.consents.add(
            CALLEE,
            "acme",
            purpose,
            evidence_ref=f"ivr-recording://{purpose}",
            channel="ivr",
            given_at=given_at,
            expires_at=given_at + timedelta(days=365),
        )
    return record.consent_id


async def test_consents_round_trip_with_aware_utc_times(store: Store) -> None:
    shanghai = timezone(timedelta(hours=8))
    consent_id = await add_consent(store, "marketing", T0.astimezone(shanghai))
    async with store.transaction(readonly=True) as tx:
        (record,) = await tx.consents.for_callee(CALLEE, "acme")
        assert await tx.consents.for_callee(CALLEE, "globex") == ()
    assert record.consent_id == consent_id
    assert (record.purpose, record.channel, record.evidence_ref) == (
        "marketing",
        "ivr",
        "ivr-recording://marketing",
    )
    assert record.given_at == T0 and record.given_at.tzinfo is UTC
    assert record.expires_at == T0 + timedelta(days=365)
    assert record.revoked_at is None


async def test_revoke_one_purpose_or_all(store: Store) -> None:
    for purpose in ("marketing", "survey", "service"):
        await add_consent(store, purpose)
    revoked_at = T0 + timedelta(days=3)
    async with store.transaction() as tx:
        assert await tx.consents.revoke(CALLEE, "acme", "survey", revoked_at) == 1
        assert await tx.consents.revoke(CALLEE, "acme", "survey", revoked_at) == 0
        assert await tx.consents.revoke(CALLEE, "globex", None, revoked_at) == 0
        later = revoked_at + timedelta(hours=1)
        assert await tx.consents.revoke(CALLEE, "acme", None, later) == 2
        records = {r.purpose: r for r in await tx.consents.for_callee(CALLEE, "acme")}
    assert records["survey"].revoked_at == revoked_at  # the first revocation stands
    assert records["marketing"].revoked_at == records["service"].revoked_at == later


async def test_consents_need_e164_and_a_known_tenant(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.consents.for_callee("13800138000", "acme")
        with pytest.raises(UnknownTenant):
            await tx.consents.add(
                CALLEE, "initech", "marketing", evidence_ref="x", channel="web", given_at=T0
            )


async def test_contact_flags_upsert(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.contacts.get(CALLEE) is None
        minor = ContactFlags(CALLEE, minor=True)
        assert await tx.contacts.upsert(minor) is Outcome.CREATED
        assert await tx.contacts.upsert(minor) is Outcome.UNCHANGED
        guardian = ContactFlags(CALLEE, minor=True, guardian=True)
        assert await tx.contacts.upsert(guardian) is Outcome.UPDATED
        assert await tx.contacts.get(CALLEE) == guardian
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.contacts.upsert(ContactFlags("13800138000"))

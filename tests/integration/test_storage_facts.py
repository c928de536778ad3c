"""``lookup_facts`` gathers what the policy needs for one attempt, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from dialguard.policy.model import (
    CallAttempt,
    ContactFlags,
    Decision,
    DncEntry,
    DncScope,
    Facts,
    NumberType,
    RegisteredNumber,
)
from dialguard.storage import Store, lookup_facts
from dialguard.storage.script_records import CampaignScript, ScriptStatus

CALLER = "+862161234567"
CALLEE = "+8613800138000"
NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
ATTEMPT = CallAttempt(caller="02161234567", callee="13800138000", tenant="acme", campaign="spring")


def approved_script(campaign: str) -> CampaignScript:
    return CampaignScript(
        0, "acme", campaign, ScriptStatus.APPROVED, "text", "0" * 64, "s.txt", (), "", (), NOW, "t"
    )


def dnc(scope: DncScope, tenant: str | None = None, campaign: str | None = None) -> DncEntry:
    return DncEntry(
        CALLEE, scope, tenant, campaign, "test", None, NOW - timedelta(days=1), None, "test"
    )


async def test_facts_of_an_attempt(store: Store, make_decision: Callable[..., Decision]) -> None:
    ours = RegisteredNumber(
        CALLER,
        "acme",
        frozenset({"callback"}),
        True,
        True,
        NumberType.CALL_CENTRE,
        "SH-1",
        date(2024, 1, 1),
        True,
    )
    later = RegisteredNumber(
        CALLER,
        "acme",
        frozenset({"marketing"}),
        False,
        True,
        NumberType.CARRIER_MARKETING,
        None,
        None,
        True,
        effective_from=NOW + timedelta(days=1),
        expires_on=date(2027, 1, 1),
    )
    async with store.transaction() as tx:
        await tx.numbers.add(ours)
        await tx.numbers.add(later)
        await tx.dnc.add(dnc(DncScope.CAMPAIGN, "acme", "spring"))
        await tx.dnc.add(dnc(DncScope.TENANT, "globex"))
        consent = await tx.consents.add(
            CALLEE, "acme", "marketing", evidence_ref="r", channel="web", given_at=NOW
        )
        await tx.contacts.upsert(ContactFlags(CALLEE, minor=True))
        await tx.scripts.add(approved_script("spring"))
        await tx.decisions.add_many(
            [
                make_decision(decided_at=NOW - timedelta(hours=2)),
                make_decision(decided_at=NOW - timedelta(days=3)),
            ]
        )
    async with store.transaction(readonly=True) as tx:
        facts = await lookup_facts(tx, ATTEMPT, CALLER, CALLEE, NOW, timedelta(days=1))
    assert facts == Facts(
        caller=CALLER,
        callee=CALLEE,
        caller_registrations=(ours, later),  # every version: the policy picks
        dnc=(dnc(DncScope.CAMPAIGN, "acme", "spring"),),
        consents=(consent,),
        recent_attempts=(NOW - timedelta(hours=2),),
        contact=ContactFlags(CALLEE, minor=True),
        campaign_script_approved=True,
    )


async def test_facts_when_numbers_did_not_normalise(store: Store) -> None:
    async with store.transaction(readonly=True) as tx:
        assert await lookup_facts(tx, ATTEMPT, None, None, NOW, timedelta(days=1)) == Facts(
            caller=None, callee=None, campaign_script_approved=False
        )
        unknown = await lookup_facts(tx, ATTEMPT, CALLER, CALLEE, NOW, timedelta(days=1))
    assert unknown == Facts(caller=CALLER, callee=CALLEE, campaign_script_approved=False)

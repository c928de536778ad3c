"""Do-not-call lists: idempotent adds and imports, scopes, expiry and removal history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dialguard.policy.model import DncEntry, DncScope
from dialguard.storage import ImportCounts, Outcome, Store, UnknownTenant

CALLEE = "+8613800138000"
T0 = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)


def entry(number: str = CALLEE, **changes: object) -> DncEntry:
    base = DncEntry(
        number=number,
        scope=DncScope.GLOBAL,
        tenant=None,
        campaign=None,
        source="miit-2024-06",
        reason="registered with the national list",
        added_at=T0,
        expires_at=None,
        added_by="import",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


TENANT = {"scope": DncScope.TENANT, "tenant": "acme"}
CAMPAIGN = {"scope": DncScope.CAMPAIGN, "tenant": "acme", "campaign": "spring"}


async def test_adding_the_same_entry_twice_changes_nothing(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.dnc.add(entry()) is Outcome.CREATED
        later = entry(added_at=T0 + timedelta(days=1), reason="again", added_by="bob")
        assert await tx.dnc.add(later) is Outcome.UNCHANGED
        assert await tx.dnc.matching(CALLEE, "acme", None, T0) == (entry(),)
        # Other scopes are other entries.
        assert await tx.dnc.add(entry(**TENANT)) is Outcome.CREATED
        assert await tx.dnc.add(entry(**CAMPAIGN)) is Outcome.CREATED
        assert await tx.dnc.add(entry(**{**CAMPAIGN, "campaign": "autumn"})) is Outcome.CREATED
        assert len(await tx.dnc.history(CALLEE)) == 4


async def test_matching_applies_global_tenant_and_campaign_scopes(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.dnc.add(entry(**TENANT))
        await tx.dnc.add(entry(**CAMPAIGN))
        await tx.dnc.add(entry(scope=DncScope.TENANT, tenant="globex"))
    async with store.transaction(readonly=True) as tx:
        scopes = [e.scope for e in await tx.dnc.matching(CALLEE, "acme", "spring", T0)]
        assert sorted(scopes) == [DncScope.CAMPAIGN, DncScope.TENANT]
        assert len(await tx.dnc.matching(CALLEE, "acme", "autumn", T0)) == 1
        assert len(await tx.dnc.matching(CALLEE, "acme", None, T0)) == 1
        assert await tx.dnc.matching(CALLEE, "initech", "spring", T0) == ()
        assert await tx.dnc.matching("+8613800138001", "acme", "spring", T0) == ()


@pytest.mark.parametrize(
    "bad",
    [
        {"tenant": "acme"},
        {"scope": DncScope.TENANT},
        {"scope": DncScope.TENANT, "tenant": "acme", "campaign": "x"},
        {"scope": DncScope.CAMPAIGN, "tenant": "acme"},
    ],
)
async def test_scope_must_match_tenant_and_campaign(store: Store, bad: dict[str, object]) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=CALLEE.replace("+", r"\+")):
            await tx.dnc.add(entry(**bad))


async def test_dnc_only_accepts_e164_and_known_tenants(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.dnc.add(entry("13800138000"))
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.dnc.matching("138 0013 8000", "acme", None, T0)
        with pytest.raises(UnknownTenant):
            await tx.dnc.add(entry(scope=DncScope.TENANT, tenant="initech"))


async def test_expired_entries_stop_matching_and_are_replaced_on_re_add(store: Store) -> None:
    expiring = entry(expires_at=T0 + timedelta(days=30))
    async with store.transaction() as tx:
        await tx.dnc.add(expiring)
        assert await tx.dnc.matching(CALLEE, "acme", None, T0 + timedelta(days=29)) == (expiring,)
        assert await tx.dnc.matching(CALLEE, "acme", None, T0 + timedelta(days=30)) == ()

        renewed = entry(added_at=T0 + timedelta(days=31))
        assert await tx.dnc.add(renewed) is Outcome.CREATED
        assert await tx.dnc.matching(CALLEE, "acme", None, T0 + timedelta(days=31)) == (renewed,)
        old, new = await tx.dnc.history(CALLEE)
        assert old.entry == expiring and old.removed_at == renewed.added_at
        assert old.removal_reason is not None and "expired" in old.removal_reason
        assert new.entry == renewed and new.removed_at is None


async def test_removal_keeps_history_and_allows_re_adding(store: Store) -> None:
    removed_at = T0 + timedelta(days=2)
    async with store.transaction() as tx:
        await tx.dnc.add(entry(**TENANT))
        await tx.dnc.add(entry())
        count = await tx.dnc.remove(
            CALLEE,
            scope=DncScope.TENANT,
            tenant="acme",
            reason="opted back in",
            by="alice",
            at=removed_at,
        )
        assert count == 1
        assert (
            await tx.dnc.remove(
                CALLEE, scope=DncScope.TENANT, tenant="acme", reason="again", by="alice"
            )
            == 0
        )
        assert await tx.dnc.matching(CALLEE, "acme", None, removed_at) == (entry(),)

        history = {r.entry.scope: r for r in await tx.dnc.history(CALLEE)}
        gone = history[DncScope.TENANT]
        assert (gone.removed_at, gone.removed_by, gone.removal_reason) == (
            removed_at,
            "alice",
            "opted back in",
        )
        assert history[DncScope.GLOBAL].removed_at is None

        assert await tx.dnc.add(entry(**TENANT, added_at=removed_at)) is Outcome.CREATED
        assert len(await tx.dnc.history(CALLEE)) == 3


async def test_bulk_import_counts_and_re_import_changes_nothing(store: Store) -> None:
    rows = [entry(f"+86138001{n:05d}") for n in range(2500)]
    rows.insert(100, rows[5])  # a duplicate inside the file
    async with store.transaction() as tx:
        counts = await tx.dnc.add_many(iter(rows), batch_size=1000)
    assert counts == ImportCounts(inserted=2500, already_present=1)
    async with store.transaction() as tx:
        again = await tx.dnc.add_many(rows)
        assert again == ImportCounts(inserted=0, already_present=2501)
        assert len(await tx.dnc.matching("+8613800100042", "acme", None, T0)) == 1


async def test_bulk_import_rejects_a_bad_row_before_writing_its_batch(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.dnc.add_many([entry(), entry("13800138001")])
        assert await tx.dnc.history(CALLEE) == ()


async def test_evidence_of_imported_rows_is_the_rows_as_they_end_the_transaction(
    store: Store,
) -> None:
    """An import hands its inserted rows to the evidence as written (no read back); a row changed
    again later in the same transaction is vouched for as it ends up, like a verifier reads it."""
    expiring = entry(expires_at=T0 + timedelta(days=1))
    async with store.transaction() as tx:
        await tx.dnc.add(expiring)
        await tx.evidence.changed()
        later = T0 + timedelta(days=2)
        numbers = [CALLEE, *(f"+86138001{n:05d}" for n in range(3))]
        await tx.dnc.add_many([entry(number, added_at=later) for number in numbers])
        await tx.dnc.remove(numbers[1], scope=DncScope.GLOBAL, reason="typo", by="bob", at=later)
        items = await tx.evidence.changed()
        assert [item["key"] for item in items] == ["1", "2", "3", "4", "5"]  # retired, then new
        assert items == await tx.evidence.of("dnc_entries", [1, 2, 3, 4, 5])
        assert await tx.evidence.changed() == []

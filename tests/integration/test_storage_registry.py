"""Tenants and the registry of our access numbers, on every backend."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from pg_databases import MigratedCopies

from dialguard.config import Settings
from dialguard.numbers import normalize
from dialguard.policy.model import NumberType, RegisteredNumber
from dialguard.storage import Outcome, Store, UnknownTenant
from dialguard.storage.registry import NumberHeld

NUMBER = "+862161234567"


def registration(**changes: object) -> RegisteredNumber:
    base = RegisteredNumber(
        number=NUMBER,
        tenant="acme",
        purposes=frozenset({"callback", "service"}),
        inbound_enabled=True,
        outbound_enabled=True,
        number_type=NumberType.CALL_CENTRE,
        filing_ref="SH-2024-0012",
        filed_on=date(2024, 1, 15),
        active=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_ensure_creates_a_tenant_once(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.tenants.ensure("initech", industry="finance")
        again = await tx.tenants.ensure("initech")
        assert again == first
        assert first.industry == "finance"
        assert (await tx.tenants.get("acme")) is not None
        assert (await tx.tenants.get("nobody")) is None
        assert [t.name for t in await tx.tenants.list()] == ["acme", "globex", "initech"]
        assert (await tx.tenants.get("acme")).industry == "general"  # type: ignore[union-attr]


async def test_same_number_in_four_formats_is_one_row(store: Store) -> None:
    formats = ["02161234567", "+86 21 6123 4567", "008602161234567", "+862161234567"]
    async with store.transaction() as tx:
        outcomes = [
            await tx.numbers.add(registration(number=normalize(raw, "CN"))) for raw in formats
        ]
        assert outcomes == [Outcome.CREATED] + [Outcome.UNCHANGED] * 3
        assert len(await tx.numbers.list()) == 1


async def test_numbers_only_accept_e164(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.numbers.add(registration(number="02161234567"))
        with pytest.raises(ValueError, match=r"expected an E\.164 number"):
            await tx.numbers.get("021 6123 4567")


async def test_re_adding_updates_and_says_so(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.numbers.add(registration()) is Outcome.CREATED
        changed = registration(purposes=frozenset({"marketing"}), outbound_enabled=False)
        assert await tx.numbers.add(changed) is Outcome.UPDATED
        assert await tx.numbers.add(changed) is Outcome.UNCHANGED
        assert await tx.numbers.get(NUMBER) == (changed,)


async def test_a_number_held_by_one_tenant_is_refused_to_another(store: Store) -> None:
    theirs = registration(tenant="globex", number_type=NumberType.CARRIER_MARKETING)
    async with store.transaction() as tx:
        await tx.numbers.add(registration())
        with pytest.raises(NumberHeld, match="registered to tenant 'acme'"):
            await tx.numbers.add(theirs)
        await tx.numbers.add(registration(number="+862161234568"))
    async with store.transaction(readonly=True) as tx:
        assert await tx.numbers.get(NUMBER) == (registration(),)
        assert await tx.numbers.holder(NUMBER) == "acme"
        assert len(await tx.numbers.list("acme")) == 2
        assert await tx.numbers.get("+862161234569") == ()


async def test_transfer_is_end_then_add_and_history_keeps_both(store: Store) -> None:
    theirs = registration(tenant="globex", number_type=NumberType.CARRIER_MARKETING)
    async with store.transaction() as tx:
        await tx.numbers.add(registration())
        assert await tx.numbers.end(NUMBER, "globex") is None
        assert await tx.numbers.end(NUMBER, "acme", by="ops") == registration()
        assert await tx.numbers.add(theirs) is Outcome.CREATED
        # and back again: a tenant may hold a number it held before
        assert await tx.numbers.end(NUMBER, "globex") is not None
        assert await tx.numbers.add(registration()) is Outcome.CREATED
    async with store.transaction(readonly=True) as tx:
        assert await tx.numbers.holder(NUMBER) == "acme"
        history = await tx.numbers.history(NUMBER)
        assert [(c.terms.tenant, c.change.value) for c in history] == [
            ("acme", "filed"),
            ("acme", "ended"),
            ("globex", "filed"),
            ("globex", "ended"),
            ("acme", "filed"),
        ]
        assert history[1].recorded_by == "ops"
        assert len(await tx.numbers.list(include_ended=True)) == 3
        assert [v.tenant for v in await tx.numbers.versions(NUMBER)] == ["acme"]


async def test_versions_carry_their_own_effective_instants(store: Store) -> None:
    first = registration(effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    later = registration(
        outbound_enabled=False,
        effective_from=datetime(2026, 12, 1, tzinfo=UTC),
        expires_on=date(2027, 12, 31),
        filed_on=None,
    )
    async with store.transaction() as tx:
        await tx.numbers.add(first)
        assert await tx.numbers.add(later) is Outcome.UPDATED
        # re-filing the same terms from another instant changes nothing
        assert await tx.numbers.add(replace(later, effective_from=None)) is Outcome.UNCHANGED
    async with store.transaction() as tx:
        assert await tx.numbers.versions(NUMBER) == (first, later)
        changes = await tx.numbers.history(NUMBER)
        assert changes[1].terms.filed_on is None
        reported = await tx.numbers.report(changes[1].change_id, date(2026, 12, 3))
        assert reported is not None and reported.terms.filed_on == date(2026, 12, 3)
        assert await tx.numbers.report(10_000, date(2026, 12, 3)) is None


async def test_concurrent_adds_for_two_tenants_cannot_both_win(
    db_settings: Settings, migrated_copies: MigratedCopies
) -> None:
    """Two stores (two gates' admin doors) racing to register the same number: the database
    keeps exactly one, and the loser is told who holds it."""
    await migrated_copies.migrate(db_settings)
    opened = [await Store.open(db_settings) for _ in range(2)]
    try:
        async with opened[0].transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.tenants.ensure("globex")

        async def add(store: Store, tenant: str) -> str:
            try:
                async with store.transaction() as tx:
                    await tx.numbers.add(registration(tenant=tenant))
                    await asyncio.sleep(0.05)  # hold the transaction open: overlap the other
            except NumberHeld as exc:
                return f"refused:{exc.holder}"
            return "won"

        for _ in range(3):
            results = await asyncio.gather(add(opened[0], "acme"), add(opened[1], "globex"))
            assert sorted(results)[1] == "won", results
            loser = "acme" if results[1] == "won" else "globex"
            winner = "globex" if loser == "acme" else "acme"
            assert sorted(results)[0] == f"refused:{winner}"
            async with opened[0].transaction() as tx:
                assert await tx.numbers.holder(NUMBER) == winner
                assert [r.tenant for r in await tx.numbers.get(NUMBER)] == [winner]
                await tx.numbers.end(NUMBER, winner)
    finally:
        for each in opened:
            await each.close()


async def test_deactivate_keeps_the_row(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.numbers.add(registration())
        assert await tx.numbers.deactivate(NUMBER, "acme") is True
        assert await tx.numbers.deactivate(NUMBER, "acme") is False
        assert await tx.numbers.get(NUMBER) == (registration(active=False),)
        assert await tx.numbers.list(active_only=True) == ()


async def test_unknown_tenant_is_refused_by_name(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(UnknownTenant, match="'initech'"):
            await tx.numbers.add(registration(tenant="initech"))


async def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with store.transaction() as tx:
            await tx.numbers.add(registration())
            raise RuntimeError("boom")
    async with store.transaction(readonly=True) as tx:
        assert await tx.numbers.get(NUMBER) == ()

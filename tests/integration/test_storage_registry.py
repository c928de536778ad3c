"""Tenants and the registry of our access numbers, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from dialguard.numbers import normalize
from dialguard.policy.model import NumberType, RegisteredNumber
from dialguard.storage import Outcome, Store, UnknownTenant

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


async def test_get_returns_every_tenants_registration(store: Store) -> None:
    theirs = registration(tenant="globex", number_type=NumberType.CARRIER_MARKETING)
    async with store.transaction() as tx:
        await tx.numbers.add(registration())
        await tx.numbers.add(theirs)
        await tx.numbers.add(registration(number="+862161234568"))
    async with store.transaction(readonly=True) as tx:
        found = await tx.numbers.get(NUMBER)
        assert [r.tenant for r in found] == ["acme", "globex"]
        assert found[1] == theirs
        assert len(await tx.numbers.list("acme")) == 2
        assert await tx.numbers.get("+862161234569") == ()


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

"""Migration ``i16`` on a deployment with registrations: each takes effect from its filed_on (the
start of that day in Beijing) or its creation, gets its ``filed`` version, and where two tenants
held one number the most recently updated keeps it while the other is ended — after which the
database refuses a second live holder. Both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from dialguard.config import Settings
from dialguard.storage import Store, head_revision, init_database
from dialguard.storage.columns import UTCDateTime
from dialguard.storage.connection import create_engine
from dialguard.storage.migrate import alembic_config
from dialguard.storage.registry import NumberHeld

CREATED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OLD_NUMBERS = sa.table(
    "registered_numbers",
    *(sa.column(n) for n in ("number", "tenant", "number_type", "filing_ref")),
    sa.column("purposes", sa.JSON()),
    *(sa.column(n, sa.Boolean()) for n in ("inbound_enabled", "outbound_enabled", "active")),
    sa.column("filed_on", sa.Date()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
OLD_TENANTS = sa.table("tenants", sa.column("name"), sa.column("created_at", UTCDateTime()))


def _to_i13ev(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "i13ev")


def row(number: str, tenant: str, filed_on: date | None, updated: int) -> dict[str, object]:
    return {
        "number": number,
        "tenant": tenant,
        "number_type": "call-centre",
        "filing_ref": None,
        "purposes": ["callback"],
        "inbound_enabled": True,
        "outbound_enabled": True,
        "active": True,
        "filed_on": filed_on,
        "created_at": CREATED,
        "updated_at": CREATED.replace(day=updated),
    }


async def test_existing_registrations_migrate(db_settings: Settings) -> None:
    engine = create_engine(db_settings.database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to_i13ev)
            await conn.execute(
                sa.insert(OLD_TENANTS),
                [{"name": n, "created_at": CREATED} for n in ("acme", "globex")],
            )
            await conn.execute(
                sa.insert(OLD_NUMBERS),
                [
                    row("+861058001234", "acme", date(2026, 1, 5), 2),
                    row("+861058005678", "acme", None, 2),
                    # two tenants held this one: globex's registration is the newer
                    row("+862161234567", "acme", None, 2),
                    row("+862161234567", "globex", None, 9),
                ],
            )
    finally:
        await engine.dispose()
    assert await init_database(db_settings) == head_revision()
    store = await Store.open(db_settings)
    try:
        async with store.transaction(readonly=True) as tx:
            (filed,) = await tx.numbers.get("+861058001234")
            assert filed.effective_from == datetime(2026, 1, 4, 16, 0, tzinfo=UTC)
            (created,) = await tx.numbers.get("+861058005678")
            assert created.effective_from == CREATED
            assert await tx.numbers.holder("+862161234567") == "globex"
            history = await tx.numbers.history("+862161234567")
            assert [(c.terms.tenant, c.change.value) for c in history] == [
                ("acme", "filed"),
                ("acme", "ended"),
                ("globex", "filed"),
            ]
            assert [v.tenant for v in await tx.numbers.versions("+862161234567")] == ["globex"]
        async with store.transaction() as tx:
            with pytest.raises(NumberHeld, match="'globex'"):
                await tx.numbers.add(replace(filed, number="+862161234567"))
    finally:
        await store.close()
    # the index itself: a second live holder written behind the repository's back is refused
    engine = create_engine(db_settings.database)
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.insert(OLD_NUMBERS), [row("+862161234567", "acme", None, 3)])
    finally:
        await engine.dispose()

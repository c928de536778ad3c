"""A deployment upgraded from before row evidence verifies cleanly, and keeps its old decisions as
long as the industry they were made under requires.

The database is built at revision 0004 with rows written the old way (no salt, no evidence, no
retention class on calls that were not recorded) and an audited finance → general change of the
tenant's industry; then ``dialguard init`` upgrades it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from dialguard.audit import service as audit
from dialguard.config import Settings
from dialguard.ops import dsr
from dialguard.ops.audited import Actor
from dialguard.policy.book import load_pack
from dialguard.settings.dsr import DsrSettings
from dialguard.storage import Store, init_database
from dialguard.storage.audit import AuditRepository
from dialguard.storage.columns import UTCDateTime
from dialguard.storage.connection import create_engine
from dialguard.storage.migrate import alembic_config
from dialguard.storage.subject_key import SubjectKey

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
NUMBER = "+8613800138000"

OLD_DECISIONS = sa.table(
    "decisions",
    *(sa.column(name) for name in ("decision_id", "direction", "presentation", "caller_raw")),
    *(sa.column(name) for name in ("caller_e164", "callee_raw", "callee_e164", "tenant")),
    *(sa.column(name) for name in ("purpose", "verdict", "first_reason", "policy_version")),
    sa.column("decided_at", UTCDateTime()),
    sa.column("reasons", sa.JSON()),
    sa.column("record", sa.Boolean()),
)
OLD_CONSENTS = sa.table(
    "consents",
    *(sa.column(name) for name in ("callee", "tenant", "purpose", "evidence_ref", "channel")),
    sa.column("given_at", UTCDateTime()),
)
OLD_TENANTS = sa.table(
    "tenants", sa.column("name"), sa.column("industry"), sa.column("created_at", UTCDateTime())
)


def _to_0004(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "0004")


def old_decision(decision_id: str, decided_at: datetime) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "direction": "outbound",
        "presentation": "allowed",
        "caller_raw": "01058001234",
        "caller_e164": "+861058001234",
        "callee_raw": "13800138000",
        "callee_e164": NUMBER,
        "tenant": "bank",
        "purpose": "callback",
        "verdict": "deny",
        "first_reason": "callerid.unregistered",
        "policy_version": "cn-2026.1+cn-finance-2026.1",
        "decided_at": decided_at,
        "reasons": [{"code": "callerid.unregistered", "message": "not filed"}],
        "record": False,
    }


async def build_old_database(settings: Settings) -> None:
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to_0004)
        async with engine.begin() as conn:
            await conn.execute(
                OLD_TENANTS.insert().values(
                    name="bank", industry="general", created_at=NOW - timedelta(days=400)
                )
            )
            chain = AuditRepository(conn)
            await chain.append(
                "admin",
                "tenants.add",
                "bank",
                {"before": None, "after": {"name": "bank", "industry": "finance"}},
                at=NOW - timedelta(days=400),
            )
            await chain.append(
                "admin",
                "tenants.add",
                "bank",
                {
                    "before": {"name": "bank", "industry": "finance"},
                    "after": {"name": "bank", "industry": "general"},
                },
                at=NOW - timedelta(days=50),
            )
            await conn.execute(
                OLD_DECISIONS.insert(),
                [
                    old_decision("under-finance", NOW - timedelta(days=60)),
                    old_decision("under-general", NOW - timedelta(days=40)),
                ],
            )
            await conn.execute(
                OLD_CONSENTS.insert().values(
                    callee=NUMBER,
                    tenant="bank",
                    purpose="callback",
                    evidence_ref="old-ticket",
                    channel="web",
                    given_at=NOW - timedelta(days=90),
                )
            )
    finally:
        await engine.dispose()


async def sql(settings: Settings, statement: str) -> None:
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def test_an_upgraded_deployment_verifies_and_keeps_old_retention(
    db_settings: Settings, tmp_path: Path
) -> None:
    settings = replace(db_settings, dsr=DsrSettings(hash_key_file=str(tmp_path / "subject.key")))
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    await build_old_database(settings)
    await init_database(settings)

    report = await audit.verify(settings, full=True)
    assert report.ok, report.problems
    assert report.rows_checked == 3
    store = await Store.open(settings)
    try:
        async with store.transaction(readonly=True) as tx:
            entries = await tx.audit.tail(10)
            finance = await tx.decisions.get("under-finance")
            general = await tx.decisions.get("under-general")
        baseline = [e for e in entries if e.action == "audit.baseline"]
        assert sorted(e.subject for e in baseline) == ["consents", "decisions"]
        assert all(e.detail["rows_as_of"] == "upgrade" for e in baseline)
        assert finance is not None and finance.retention_class == "finance"
        assert general is not None and general.retention_class == "general"

        pack = load_pack("cn")
        erased = await dsr.erase(store, Actor("dpo", NOW), pack, NUMBER, deadline_days=15)
        assert erased.erased["decisions"] == 1  # under-general: past its 30 days
        [held] = [h for h in erased.held if h.table == "decisions"]
        assert held.until == NOW - timedelta(days=60) + timedelta(days=1826)
        assert (await audit.verify(settings, full=True)).ok
    finally:
        await store.close()

    await sql(
        settings, "UPDATE decisions SET verdict = 'allow' WHERE decision_id = 'under-finance'"
    )
    report = await audit.verify(settings, full=True)
    assert [p.row for p in report.problems] == ["decisions/under-finance"]

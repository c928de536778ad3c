"""The SQLite call path (:class:`SqliteFactReader`: compiled statements on plain ``sqlite3``)
answers exactly what the repositories answer, over the same data.

This is what keeps the two paths in step: every rule the call path depends on — DNC scopes,
expiry, removal, erased people's opt-outs by keyed hash, consents, frequency resets and
restricted decisions, campaign scripts, the tenant's industry — has a case seeded here.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dialguard.config import Settings
from dialguard.ops import dsr
from dialguard.ops.audited import Actor
from dialguard.policy.book import load_pack
from dialguard.policy.model import (
    CallAttempt,
    ContactFlags,
    Decision,
    DncEntry,
    DncScope,
    Facts,
    NumberType,
    RegisteredNumber,
    Verdict,
)
from dialguard.settings.database import DatabaseSettings
from dialguard.settings.dsr import DsrSettings
from dialguard.storage import Store, init_database, lookup_facts
from dialguard.storage.compiled import CompiledSelect
from dialguard.storage.decisions import ALLOWED_OF_PAIRS_SQLITE, pairs_json
from dialguard.storage.facts import SqliteFactReader
from dialguard.storage.script_records import CampaignScript, ScriptStatus
from dialguard.storage.settle import stored_allowed
from dialguard.storage.subject_key import SubjectKey

NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
CALLER = "+862161234567"
CALLEE = "+8613800138000"
RESET = "+8613800138001"  # allowed calls before and after a frequency reset
ERASED = "+8613800138002"  # erased after opting out: kept by keyed hash only
UNKNOWN = "+8613800138009"
WINDOW = timedelta(days=7)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    settings = replace(
        Settings(),
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/dialguard.db"),
        dsr=DsrSettings(hash_key_file=str(tmp_path / "subject.key")),
    )
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    await init_database(settings)
    opened = await Store.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


def registration(tenant: str, active: bool = True) -> RegisteredNumber:
    return RegisteredNumber(
        CALLER,
        tenant,
        frozenset({"marketing", "callback"}),
        True,
        tenant != "bank",
        NumberType.CALL_CENTRE,
        f"REF-{tenant}" if tenant == "acme" else None,
        date(2024, 1, 1) if tenant == "acme" else None,
        active,
    )


def dnc(
    number: str,
    scope: DncScope,
    tenant: str | None = None,
    campaign: str | None = None,
    *,
    expires_at: datetime | None = None,
    source: str = "test",
) -> DncEntry:
    added = NOW - timedelta(days=10)
    return DncEntry(number, scope, tenant, campaign, source, "why", added, expires_at, "t")


def script(campaign: str, status: ScriptStatus) -> CampaignScript:
    return CampaignScript(
        0, "acme", campaign, status, "text", "0" * 64, "s.txt", (), "", (), NOW, "t"
    )


async def seed(store: Store, make_decision: Callable[..., Decision]) -> None:
    async with store.transaction() as tx:
        await tx.tenants.ensure("acme")
        await tx.tenants.ensure("bank", "finance")
        await tx.tenants.ensure("globex")
        # globex held the number once (ended: neither path may see it), acme holds it now,
        # with a second version of its filing taking effect tomorrow
        await tx.numbers.add(registration("globex", active=False))
        await tx.numbers.end(CALLER, "globex")
        await tx.numbers.add(registration("acme"))
        tomorrow = replace(registration("bank"), tenant="acme", effective_from=NOW + timedelta(1))
        await tx.numbers.add(tomorrow)
        for number in (CALLEE, ERASED):
            await tx.dnc.add(dnc(number, DncScope.GLOBAL))
            await tx.dnc.add(dnc(number, DncScope.TENANT, "acme"))
            await tx.dnc.add(dnc(number, DncScope.TENANT, "globex"))
            await tx.dnc.add(dnc(number, DncScope.CAMPAIGN, "acme", "spring"))
            await tx.dnc.add(dnc(number, DncScope.CAMPAIGN, "acme", "autumn"))
            await tx.dnc.add(
                dnc(number, DncScope.GLOBAL, expires_at=NOW - timedelta(days=1), source="old")
            )
            await tx.dnc.add(
                dnc(number, DncScope.TENANT, "bank", expires_at=NOW + timedelta(days=30))
            )
        await tx.dnc.add(dnc(RESET, DncScope.TENANT, "acme"))
        await tx.dnc.remove(RESET, scope=DncScope.TENANT, tenant="acme", reason="asked", by="t")
        for callee in (CALLEE, ERASED, RESET):
            await tx.consents.add(
                callee, "acme", "marketing", evidence_ref="r1", channel="web", given_at=NOW
            )
            await tx.consents.add(
                callee,
                "acme",
                "callback",
                evidence_ref="r2",
                channel="ivr",
                given_at=NOW - timedelta(days=40),
                expires_at=NOW - timedelta(days=1),
            )
            await tx.consents.add(
                callee, "bank", "marketing", evidence_ref="r3", channel="sms", given_at=NOW
            )
        await tx.consents.revoke(CALLEE, "acme", "callback", NOW - timedelta(days=2))
        await tx.contacts.upsert(ContactFlags(CALLEE, minor=True))
        await tx.contacts.upsert(ContactFlags(RESET, minor=False, guardian=True))
        await tx.scripts.add(script("spring", ScriptStatus.APPROVED))
        await tx.scripts.add(script("autumn", ScriptStatus.REFUSED))
        history = []
        for callee, tenant, hours, verdict in itertools.product(
            (CALLEE, RESET, ERASED), ("acme", "bank"), (1, 5, 30, 24 * 10), Verdict
        ):
            history.append(
                make_decision(
                    tenant=tenant,
                    callee=callee,
                    verdict=verdict,
                    decided_at=NOW - timedelta(hours=hours),
                )
            )
        await tx.decisions.add_many(history)
        await tx.decisions.reset_frequency(RESET, "acme", NOW - timedelta(hours=3), "t", "asked")
    await dsr.erase(store, Actor("dpo", NOW), load_pack("cn"), ERASED, deadline_days=15)


async def test_the_sqlite_call_path_reads_what_the_repositories_read(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    await seed(store, make_decision)
    file = store.sqlite_file()
    assert file is not None and file.subject_key is not None
    fast = SqliteFactReader(file)
    try:
        compared: list[Facts] = []
        for caller, callee, tenant, campaign, at in itertools.product(
            (CALLER, UNKNOWN, None),
            (CALLEE, RESET, ERASED, UNKNOWN, None),
            ("acme", "bank", "globex", "nobody"),
            (None, "spring", "autumn"),
            (NOW, NOW + timedelta(days=60)),
        ):
            attempt = CallAttempt(caller="x", callee="y", tenant=tenant, campaign=campaign)
            async with store.transaction(readonly=True) as tx:
                expected = await lookup_facts(tx, attempt, caller, callee, at, WINDOW)
            assert await fast.lookup(attempt, caller, callee, at, WINDOW) == expected, (
                caller,
                callee,
                tenant,
                campaign,
                at,
            )
            compared.append(expected)
    finally:
        fast.close()
    # The seed exercises every rule: each of these shows up in what was compared.
    assert any(len(f.caller_registrations) == 2 for f in compared)  # acme's two versions
    assert any(f.tenant_industry == "finance" for f in compared)
    assert {f.campaign_script_approved for f in compared} == {None, True, False}
    assert max(len(f.dnc) for f in compared) == 3  # global, the tenant's, the campaign's
    entries = [e for f in compared for e in f.dnc]
    assert {e.scope for e in entries} == set(DncScope)
    assert any(e.tenant == "bank" for e in entries)  # expires in 30 days: seen at NOW only
    assert not any(e.source == "old" for e in entries)  # expired
    assert not any(e.number == RESET for e in entries)  # removed
    assert any(e.source == "kept after erasure" for e in entries)
    assert any(len(f.consents) == 2 and f.consents[0].revoked_at for f in compared)
    assert any(f.contact is not None and f.contact.guardian for f in compared)
    recent = {(f.callee, len(f.recent_attempts)) for f in compared if f.callee}
    assert (CALLEE, 3) in recent and (RESET, 1) in recent and (ERASED, 0) in recent


async def test_the_settling_reads_in_one_statement_what_the_call_path_reads_per_callee(
    store: Store, make_decision: Callable[..., Decision]
) -> None:
    """The write transaction's re-count (:data:`ALLOWED_OF_PAIRS_SQLITE`, compiled, and the
    repository's ``allowed_of_pairs``) against ``recent_allowed`` of each pair: resets, erased
    (restricted) decisions, denials, other tenants, and each pair cut at its own instant."""
    await seed(store, make_decision)
    file = store.sqlite_file()
    assert file is not None
    pairs = itertools.product(("acme", "bank", "globex"), (CALLEE, RESET, ERASED, UNKNOWN))
    since = {
        pair: NOW - timedelta(hours=(2, 6, 31, 24 * 11)[n % 4]) for n, pair in enumerate(pairs)
    }
    async with store.transaction(readonly=True) as tx:
        expected = {
            (tenant, callee): sorted(await tx.decisions.recent_allowed(callee, tenant, at))
            for (tenant, callee), at in since.items()
        }
        through_repository = await tx.decisions.allowed_of_pairs(since)
    compiled = CompiledSelect(ALLOWED_OF_PAIRS_SQLITE)
    params = {"pairs": pairs_json(since), "since": min(since.values())}
    with closing(sqlite3.connect(file.path)) as conn:
        through_compiled = stored_allowed(compiled.rows(conn, params), since)
    assert {k: sorted(v) for k, v in through_repository.items()} == expected
    assert {k: sorted(v) for k, v in through_compiled.items()} == expected
    counts = {key: len(times) for key, times in expected.items()}
    assert counts[("acme", CALLEE)] == 1 and counts[("bank", RESET)] == 2  # cut at 2 and 6 h
    assert counts[("acme", RESET)] == 1  # the reset 3 h ago hides the 5 h one
    assert counts[("bank", ERASED)] == counts[("globex", CALLEE)] == 0  # restricted; none

"""China's access codes on the live path, FastAGI end to end: registered through the operations
layer like ``numbers add``, presented by Asterisk however it writes them, matched exactly, and
denied with a stable reason when another tenant holds the number or the filing is not in force
at the call's instant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import gate_settings
from pg_databases import MigratedCopies

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp, book_from
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.esl.testing import ChannelData, FakeFreeSwitch
from dialguard.ops.audited import Actor
from dialguard.ops.numbers import Filing, register_number
from dialguard.ops.vocabulary import Vocabulary
from dialguard.storage.store import Store

ESL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "esl"
BEIJING = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)
CALLEE = "13800138000"


FILINGS = (
    Filing("95555", "bank1", filed_on=date(2026, 1, 5), expires_on=date(2026, 12, 31)),
    Filing("96588", "bank2", filed_on=date(2026, 1, 5)),
    Filing("12345", "bank1", effective_from=datetime(2026, 12, 1, tzinfo=BEIJING)),
    Filing("10085", "bank1", filed_on=date(2025, 1, 5), expires_on=date(2026, 11, 24)),
    Filing("10658001", "bank1", filed_on=date(2026, 1, 5), purposes=("marketing",)),
    Filing("400-800-1234", "bank1", filed_on=date(2026, 1, 5), inbound=False),
    Filing("95588", "euro", filed_on=date(2026, 1, 5)),
)


def settings_for(tmp_path: Path, **recording: str) -> Settings:
    """:func:`builders.gate_settings` without ESL, vaults for the ``cn`` and ``eu`` regions."""
    vaults = f"cn={tmp_path}/vault-cn,eu={tmp_path}/vault-eu"
    return gate_settings(
        tmp_path, esl={"enabled": "false"}, recording={"regions": vaults, **recording}
    )


@pytest.fixture
async def store(tmp_path: Path, migrated_copies: MigratedCopies) -> AsyncIterator[Store]:
    settings = settings_for(tmp_path)
    await migrated_copies.migrate(settings)
    opened = await Store.open(settings)
    actor = Actor("test", WEDNESDAY_10 - timedelta(days=30))
    book = book_from(settings)
    numbering, vocabulary = book.numbering, Vocabulary.of(book)
    async with opened.transaction() as tx:
        for tenant in sorted({f.tenant for f in FILINGS}):
            await tx.tenants.ensure(tenant)
    for filing in FILINGS:
        await register_number(opened, actor, filing, numbering, vocabulary=vocabulary)
    async with opened.transaction() as tx:
        for tenant, purpose in (
            ("bank1", "callback"),
            ("bank1", "marketing"),
            ("euro", "callback"),
        ):
            await tx.consents.add(
                "+86" + CALLEE,
                tenant,
                purpose,
                evidence_ref="ticket",
                channel="sms",
                given_at=datetime(2026, 1, 1, tzinfo=BEIJING),
            )
    yield opened
    await opened.close()


@pytest.fixture
async def gate(tmp_path: Path, store: Store) -> AsyncIterator[GateApp]:
    app = GateApp(settings_for(tmp_path, tenant_regions="euro=eu"), Clock(WEDNESDAY_10))
    await app.start()
    yield app
    await app.stop()


@pytest.mark.parametrize(
    ("callerid", "tenant", "purpose", "reason"),
    [
        # one number, every way a PBX may present it
        ("95555", "bank1", "callback", ""),
        ("+8695555", "bank1", "callback", ""),
        ("008695555", "bank1", "callback", ""),
        ("8695555", "bank1", "callback", ""),
        ("095555", "bank1", "callback", ""),
        # the carriers' marketing port, as filed: carrier-marketing, for marketing
        ("10658001", "bank1", "marketing", ""),
        ("+8610658001", "bank1", "marketing", ""),
        # held by another tenant: renting or lending a number is what the rules forbid
        ("96588", "bank1", "callback", "callerid.other_tenant"),
        ("96588", "bank2", "callback", "consent.missing"),
        # not in force at the call's instant
        ("12345", "bank1", "callback", "callerid.not_yet_effective"),
        ("10085", "bank1", "callback", "callerid.filing_expired"),
        # a code no class knows is not a valid caller ID
        ("9555", "bank1", "callback", "callerid.invalid"),
        # the tenant's recordings are in the EU: a call to China is denied
        ("95588", "euro", "callback", "data.residency"),
    ],
)
async def test_access_codes_on_the_live_path(
    gate: GateApp, callerid: str, tenant: str, purpose: str, reason: str
) -> None:
    assert gate.agi is not None
    block = header_block(callerid=callerid, args=(CALLEE, tenant, purpose))
    record = await FakeAsterisk(gate.agi.port).call(block)
    assert record.variables["DIALGUARD_REASON"] == reason
    assert record.variables["DIALGUARD_VERDICT"] == ("DENY" if reason else "ALLOW")


async def test_inbound_to_a_number_not_filed_for_inbound_is_refused(gate: GateApp) -> None:
    assert gate.agi is not None
    asterisk = FakeAsterisk(gate.agi.port)
    closed = header_block("inbound", callerid="13700137000", args=("4008001234", "bank1"))
    record = await asterisk.call(closed)
    assert record.variables["DIALGUARD_VERDICT"] == "DENY"
    assert record.variables["DIALGUARD_REASON"] == "callee.inbound_disabled"
    open_ = header_block("inbound", callerid="13700137000", args=("+8695555", "bank1"))
    record = await asterisk.call(open_)
    assert record.variables["DIALGUARD_VERDICT"] == "ALLOW"


@pytest.mark.parametrize(
    ("caller", "reason"),
    [("95555", ""), ("+8695555", ""), ("008695555", ""), ("96588", "callerid.other_tenant")],
)
async def test_access_codes_through_freeswitch(
    tmp_path: Path, store: Store, caller: str, reason: str
) -> None:
    """The same numbers as FreeSWITCH presents them over the Event Socket (no recording: the
    verdict is the point here)."""
    settings = settings_for(tmp_path)
    settings = replace(
        settings,
        agi=replace(settings.agi, enabled=False),
        esl=replace(settings.esl, enabled=True, port=0),
    )
    app = GateApp(settings, Clock(WEDNESDAY_10))
    await app.start()
    try:
        assert app.esl is not None
        base = ChannelData.load(ESL_FIXTURES / "uuid-dump.esl")
        channel = base.with_(
            caller=caller,
            callee=CALLEE,
            tenant="bank1",
            purpose="callback",
            uniqueid="6f9c1f8e-0000-4000-8000-000000000001",
        )
        record = await FakeFreeSwitch(app.esl.port, base).call(channel)
        await app.esl.wait_idle()
    finally:
        await app.stop()
    assert record.variables["dialguard_reason"] == reason
    assert record.variables["dialguard_verdict"] == ("DENY" if reason else "ALLOW")

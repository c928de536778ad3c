"""The Asterisk e2e decision table (``sipp-scenarios/``), replayed through the FreeSWITCH path.

Same cases, same seed data, same expected verdicts and reasons: the real gate (``GateApp``
with its ESL server, the shared database and the recording vault) against the FreeSWITCH test
peer. Cases that are about the Asterisk dialplan itself (emergency bypass, a stopped or stuck
gate, AGI header abuse) have no ESL counterpart and are left out here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import gate_settings
from pg_databases import MigratedCopies

from devkit.cases import Call, Case, load_cases
from dialguard.app import GateApp
from dialguard.clock import Clock, parse_instant
from dialguard.config import Settings
from dialguard.esl.testing import ChannelData, FakeFreeSwitch
from dialguard.numbers import normalize, try_normalize
from dialguard.ops.recording_testing import write_wav
from dialguard.policy.model import DncEntry, DncScope, NumberType, RegisteredNumber
from dialguard.recording.keys import create_keyring
from dialguard.storage.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "esl"
CASES = [
    case
    for case in load_cases()
    if case.abuse is None
    and all(call.peer == "gate" and call.verdict != "none" for call in case.calls)
]


def settings_for(tmp_path: Path) -> Settings:
    return gate_settings(
        tmp_path,
        agi={"enabled": "false"},
        esl={"recordings_dir": str(tmp_path / "fs-recordings")},
        recording={
            "enabled": "true",
            "keyring_file": str(tmp_path / "keys.json"),
            "regions": f"cn={tmp_path / 'vault'}",
            "spool_dir": str(tmp_path / "fs-recordings"),
            "ami_secret": "",
        },
    )


async def seed(settings: Settings, case: Case, copies: MigratedCopies) -> None:
    await copies.migrate(settings)
    store = await Store.open(settings)
    at = parse_instant(case.now)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure(case.tenant, case.industry or "general")
            for number in case.numbers:
                await tx.numbers.add(
                    RegisteredNumber(
                        number=normalize(number.number),
                        tenant=case.tenant,
                        purposes=frozenset({number.purpose}),
                        inbound_enabled=True,
                        outbound_enabled=number.outbound,
                        number_type=NumberType(number.type or "call-centre"),
                        filing_ref=None,
                        filed_on=None,
                        active=True,
                    )
                )
            for consent in case.consent:
                await tx.consents.add(
                    normalize(consent.callee),
                    case.tenant,
                    consent.purpose,
                    evidence_ref=consent.evidence,
                    channel="test",
                    given_at=datetime(2026, 1, 1, tzinfo=at.tzinfo),
                )
            for dnc in case.dnc:
                await tx.dnc.add(
                    DncEntry(
                        number=normalize(dnc.number),
                        scope=DncScope.TENANT,
                        tenant=case.tenant,
                        campaign=None,
                        source="test",
                        reason=dnc.reason,
                        added_at=datetime(2026, 1, 1, tzinfo=at.tzinfo),
                        expires_at=None,
                        added_by="test",
                    )
                )
    finally:
        await store.close()


@pytest.fixture
async def keyring(tmp_path: Path) -> AsyncIterator[None]:
    create_keyring(tmp_path / "keys.json", datetime(2026, 1, 1).astimezone())
    (tmp_path / "fs-recordings").mkdir()
    yield


def channel_for(case: Case, call: Call, n: int) -> ChannelData:
    base = ChannelData.load(FIXTURES / "uuid-dump.esl")
    hidden = {"sip_privacy": call.privacy} if call.privacy else {}
    if call.privacy_id:
        hidden["hide_number"] = "true"
    return base.with_(
        caller=call.caller,
        callee=call.callee,
        tenant=case.tenant,
        purpose="callback",
        uniqueid=f"6f9c1f8e-0000-4000-8000-{n:012d}",
        **hidden,
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_decision_table_through_esl(
    tmp_path: Path, keyring: None, case: Case, migrated_copies: MigratedCopies
) -> None:
    settings = settings_for(tmp_path)
    await seed(settings, case, migrated_copies)
    for n, call in enumerate(case.calls):
        app = GateApp(settings, Clock(parse_instant(call.now)))
        await app.start()
        try:
            assert app.esl is not None
            peer = FakeFreeSwitch(
                app.esl.port,
                ChannelData.load(FIXTURES / "uuid-dump.esl"),
                write_recording=lambda path: write_wav(path, seconds=2.0),
            )
            record = await peer.call(channel_for(case, call, n))
            await app.esl.wait_idle()
        finally:
            await app.stop()
        assert record.variables["dialguard_verdict"] == call.verdict.upper(), record.variables
        assert record.variables.get("dialguard_next_allowed") == call.next_allowed
        if call.reason:
            assert record.variables["dialguard_reason"] == call.reason
            assert record.hangup_cause == "OUTGOING_CALL_BARRED"
        decision_id = record.variables["dialguard_decision_id"]
        store = await Store.open(settings)
        try:
            async with store.transaction(readonly=True) as tx:
                decision = await tx.decisions.get(decision_id)
                recordings = await tx.recordings.list(limit=100)
        finally:
            await store.close()
        assert decision is not None, f"no decision row {decision_id}"
        assert decision.verdict.value == call.verdict
        assert decision.first_reason == call.reason
        assert decision.callee == try_normalize(call.callee)
        retry = decision.next_allowed_at
        assert (None if retry is None else retry.isoformat()) == call.next_allowed
        ours = [r for r in recordings if r.decision_id == decision_id]
        if call.verdict == "allow":
            assert len(ours) == 1, "an allowed call is recorded into the vault"
            terms = ours[0].terms
            if call.retention_days is not None:
                assert terms.min_days == call.retention_days
                assert terms.retain_until == ours[0].ended_at + timedelta(days=call.retention_days)
            if call.legal_basis is not None:
                assert call.legal_basis in terms.legal_basis
        else:
            assert ours == []

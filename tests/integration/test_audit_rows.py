"""``audit verify`` vouches for the rows, not only the entries, on both backends.

A workload writes every kind of evidentiary row the way the product does (decisions through the
decision log, admin changes with their evidence items); then rows are tampered with directly in
SQL, as someone with database access would — a flipped verdict, a rewritten callee or consent
reference, a deleted or inserted row, an unreadable timestamp — and each is named, by table and
key, without a crash. Incremental verification starts from the last verified checkpoint.

What verification finds is the subject here, not where it runs: it runs in the test process
(``verification_in_process``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dialguard.audit import service
from dialguard.audit.checkpoint import SigningKey
from dialguard.audit.verified import load_state, state_path
from dialguard.audit.verify import Progress, VerifyReport
from dialguard.audit.writer import AuditChainBroken, CheckpointWriter
from dialguard.config import Settings
from dialguard.policy.model import (
    DncEntry,
    DncScope,
    NumberType,
    Reason,
    RegisteredNumber,
    Verdict,
)
from dialguard.settings.audit import AuditSettings
from dialguard.storage import DecisionLog, Store, Transaction
from dialguard.storage.connection import create_engine
from dialguard.storage.recording_records import CallSource, NewRecording, RetentionTerms
from dialguard.storage.schema import decisions

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
CALLEE = "+8613800138000"


@pytest.fixture
def settings(db_settings: Settings, tmp_path: Path) -> Settings:
    audit = AuditSettings(
        checkpoint_file=str(tmp_path / "cp.jsonl"),
        signing_key_file=str(tmp_path / "signing.key"),
    )
    SigningKey.create(Path(audit.signing_key_file))
    return replace(db_settings, audit=audit)


@dataclass(frozen=True)
class Seeded:
    allowed: str
    denied: str
    consent: int
    dnc: int
    number: int
    recording: int


async def workload(store: Store, make_decision: Callable[..., Any]) -> Seeded:
    """Decisions through the decision log; consent, DNC, number and recording changes each
    audited with the evidence of the rows they wrote, as the CLI and API do."""
    allowed = make_decision(consent_ref="ticket-1", record=True, call_id="c-1", decided_at=T0)
    denied = make_decision(
        verdict=Verdict.DENY,
        reasons=(Reason("callee.dnc", "13800138000 opted out"),),
        decided_at=T0 + timedelta(minutes=1),
    )
    log = DecisionLog(store)
    log.start()
    try:
        for decision in (allowed, denied):
            await log.append(decision)
    finally:
        await log.stop()
    async with store.transaction() as tx:
        consent = await tx.consents.add(
            CALLEE,
            "acme",
            "callback",
            evidence_ref="ticket-1",
            channel="web",
            given_at=T0 - timedelta(days=1),
        )
        await audited(tx, "consent.add")
        entry = DncEntry(CALLEE, DncScope.GLOBAL, None, None, "callee", "stop", T0, None, "alice")
        await tx.dnc.add(entry)
        await tx.dnc.add(replace(entry, scope=DncScope.TENANT, tenant="acme"))
        await tx.dnc.remove(CALLEE, scope=DncScope.TENANT, tenant="acme", reason="x", by="bob")
        dnc_global, _ = await audited(tx, "dnc.add")
        await tx.numbers.add(
            RegisteredNumber(
                "+861058001234",
                "acme",
                frozenset({"callback"}),
                True,
                True,
                NumberType.CALL_CENTRE,
                "F-1",
                None,
                True,
            )
        )
        (number,) = await audited(tx, "numbers.add")
        terms = RetentionTerms("default", "MIIT", "call_end", T0, 30, T0 + timedelta(days=30))
        source = CallSource(allowed.decision_id, "c-1", "+862161234567", CALLEE, "acme", None, T0)
        new = NewRecording(
            "dg-c-1", source, T0, T0, 1000, 10, "0" * 64, "k1", "cn", "a.dgr", terms, T0
        )
        recording = await tx.recordings.add(new)
        assert recording is not None
        await tx.recordings.set_hold(recording.id, True, "court order", "carol", T0)
        await audited(tx, "recording.hold")
    return Seeded(
        allowed.decision_id,
        denied.decision_id,
        consent.consent_id,
        int(dnc_global),
        int(number),
        recording.id,
    )


async def audited(tx: Transaction, action: str) -> list[str]:
    """Append the action's entry with the evidence of what it wrote; the keys written."""
    items = await tx.evidence.changed()
    await tx.audit.append("alice", action, "n:x", {"evidence": items})
    return [item["key"] for item in items]


async def sql(settings: Settings, statement: str, **params: Any) -> None:
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement), params)
    finally:
        await engine.dispose()


async def check(settings: Settings, **kwargs: Any) -> VerifyReport:
    return await service.verify(settings, **kwargs)


async def test_a_workload_verifies_with_every_row_vouched_for(
    store: Store, settings: Settings, make_decision: Callable[..., Any]
) -> None:
    await workload(store, make_decision)
    await service.write_checkpoint(store, settings, now=T0)
    report = await check(settings)
    assert report.ok, report.problems
    # 2 decisions, 1 consent, 2 DNC rows, 1 number, 1 recording
    assert report.rows_checked == 7


COPY_DECISION = (
    "INSERT INTO decisions ({cols}) SELECT 'forged-0000', {rest} FROM decisions "
    "WHERE decision_id = :allowed"
)


def _copy_decision() -> str:
    columns = [c.name for c in decisions.columns if c.name not in ("id", "decision_id")]
    return COPY_DECISION.format(cols=", ".join(["decision_id", *columns]), rest=", ".join(columns))


TAMPERING = [
    (
        "UPDATE decisions SET verdict = 'allow' WHERE decision_id = :denied",
        "decisions/{denied}",
        "edited",
    ),
    (
        "UPDATE decisions SET callee_e164 = '+8613900139000' WHERE decision_id = :allowed",
        "decisions/{allowed}",
        "edited",
    ),
    (
        "UPDATE decisions SET consent_ref = 'forged' WHERE decision_id = :allowed",
        "decisions/{allowed}",
        "edited",
    ),
    (
        "UPDATE decisions SET restricted = true WHERE decision_id = :allowed",
        "decisions/{allowed}",
        "edited",
    ),
    ("DELETE FROM decisions WHERE decision_id = :denied", "decisions/{denied}", "deleted"),
    (_copy_decision(), "decisions/forged-0000", "inserted"),
    (
        "UPDATE consents SET revoked_at = NULL, evidence_ref = 'other' WHERE id = :consent",
        "consents/{consent}",
        "edited",
    ),
    ("DELETE FROM dnc_entries WHERE id = :dnc", "dnc_entries/{dnc}", "deleted"),
    (
        "INSERT INTO registered_numbers (number, tenant, purposes, inbound_enabled, "
        "outbound_enabled, number_type, active, created_at, updated_at) SELECT '+861058009999', "
        "tenant, purposes, inbound_enabled, outbound_enabled, number_type, active, created_at, "
        "updated_at FROM registered_numbers WHERE id = :number",
        "registered_numbers/{next_number}",
        "inserted",
    ),
    (
        "UPDATE recordings SET legal_hold = false WHERE id = :recording",
        "recordings/{recording}",
        "edited",
    ),
]


@pytest.mark.parametrize(
    ("tamper", "row", "words"),
    TAMPERING,
    ids=[
        "verdict",
        "callee",
        "consent-ref",
        "restriction",
        "delete",
        "insert",
        "consent",
        "dnc-delete",
        "number-insert",
        "hold",
    ],
)
async def test_every_row_tampering_is_named(
    store: Store,
    settings: Settings,
    make_decision: Callable[..., Any],
    tamper: str,
    row: str,
    words: str,
) -> None:
    seeded = await workload(store, make_decision)
    await service.write_checkpoint(store, settings, now=T0)
    params = {
        "allowed": seeded.allowed,
        "denied": seeded.denied,
        "consent": seeded.consent,
        "dnc": seeded.dnc,
        "number": seeded.number,
        "recording": seeded.recording,
    }
    used = {k: v for k, v in params.items() if f":{k}" in tamper}
    await sql(settings, tamper, **used)
    report = await check(settings)
    expected = row.format(**params, next_number=seeded.number + 1)
    assert [p.row for p in report.problems] == [expected], report.problems
    (problem,) = report.problems
    assert problem.message.startswith(f"row {expected}: ") and f"({words})" in problem.message
    assert "13800138000" not in problem.message


async def test_a_bad_timestamp_is_named_not_raised(
    store: Store, settings: Settings, make_decision: Callable[..., Any]
) -> None:
    seeded = await workload(store, make_decision)
    if settings.is_sqlite:
        await sql(settings, "UPDATE audit_log SET at = 'yesterday-ish' WHERE seq = 3")
        await sql(
            settings,
            "UPDATE decisions SET decided_at = 'soon' WHERE decision_id = :d",
            d=seeded.denied,
        )
    else:  # a timestamptz column only takes timestamps: moved, not garbled
        await sql(settings, "UPDATE audit_log SET at = at + interval '1 hour' WHERE seq = 3")
        await sql(
            settings,
            "UPDATE decisions SET decided_at = decided_at - interval '1 day' "
            "WHERE decision_id = :d",
            d=seeded.denied,
        )
    report = await check(settings)
    assert not report.ok
    assert report.problems[0].seq == 3 and report.problems[0].message.startswith("entry 3: ")
    assert [p.row for p in report.problems[1:]] == [f"decisions/{seeded.denied}"]
    if settings.is_sqlite:
        assert "unreadable" in report.problems[0].message
        assert "unreadable decided_at" in report.problems[1].message


async def test_verification_resumes_from_the_last_verified_checkpoint(
    store: Store, settings: Settings, make_decision: Callable[..., Any]
) -> None:
    seeded = await workload(store, make_decision)
    first = await service.write_checkpoint(store, settings, now=T0)
    steps: list[Progress] = []
    report = await check(settings, on_progress=steps.append)
    assert report.ok and report.checked_from == 1
    assert steps[-1].phase == "rows" and steps[-1].done == steps[-1].total == 7
    entries = [s for s in steps if s.phase == "entries"]
    assert entries[-1].done == entries[-1].total == first.tree_size
    state = load_state(state_path(Path(settings.audit.checkpoint_file)))
    assert state is not None and state.tree_size == first.tree_size

    log = DecisionLog(store)
    log.start()
    try:
        await log.append(make_decision(decided_at=T0 + timedelta(hours=1)))
    finally:
        await log.stop()
    await service.write_checkpoint(store, settings, now=T0 + timedelta(hours=1))
    report = await check(settings)
    assert report.ok, report.problems
    assert report.checked_from == first.tree_size + 1 and report.rows_checked == 1

    # An old row no new entry names is the next full verification's to find.
    await sql(
        settings, "UPDATE decisions SET verdict = 'deny' WHERE decision_id = :d", d=seeded.allowed
    )
    assert (await check(settings)).ok
    full = await check(settings, full=True)
    assert [p.row for p in full.problems] == [f"decisions/{seeded.allowed}"]
    assert full.checked_from == 1


async def test_a_rewrite_before_the_verified_checkpoint_forces_a_full_verification(
    store: Store, settings: Settings, make_decision: Callable[..., Any]
) -> None:
    await workload(store, make_decision)
    checkpoint = await service.write_checkpoint(store, settings, now=T0)
    assert (await check(settings)).ok
    await sql(
        settings, "UPDATE audit_log SET actor = 'mallory' WHERE seq = :s", s=checkpoint.tree_size
    )
    report = await check(settings)
    assert report.checked_from == 1
    assert any("has changed or gone since" in note for note in report.notes)
    assert report.problems[0].seq == checkpoint.tree_size


async def test_a_restarted_writer_resumes_from_the_checkpoint_file(
    store: Store, settings: Settings, make_decision: Callable[..., Any]
) -> None:
    await workload(store, make_decision)
    first = await service.write_checkpoint(store, settings, now=T0)
    key = SigningKey.load(Path(settings.audit.signing_key_file))
    path = Path(settings.audit.checkpoint_file)
    # An entry before the checkpoint altered without re-hashing: a resumed writer does not
    # re-read it, but what it signs still commits to the original, so verification names it.
    await sql(settings, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    resumed = CheckpointWriter(store, key, path)
    async with store.transaction() as tx:
        await tx.audit.append("alice", "tenants.add", "t", {"after": {}})
    signed = await resumed.checkpoint(T0 + timedelta(minutes=1))
    assert signed is not None and signed.tree_size == first.tree_size + 1
    report = await check(settings, full=True)
    assert [p.seq for p in report.problems][:1] == [2]
    assert any("no longer extends" in p.message for p in report.problems)

    # The entry a checkpoint ended on, rewritten: a restarted writer refuses to sign.
    await sql(
        settings, "UPDATE audit_log SET hash = :h WHERE seq = :s", h="0" * 64, s=signed.tree_size
    )
    with pytest.raises(AuditChainBroken, match="rewritten"):
        await CheckpointWriter(store, key, path).checkpoint(T0 + timedelta(minutes=2))

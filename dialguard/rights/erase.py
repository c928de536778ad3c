"""Erasure (PIPL Art 47, GDPR Art 17) with restriction where the law still requires keeping.

What no law requires goes at once. Decisions and recordings that a retention class still covers
are kept but restricted: excluded from listings and the call path, usable only for storage and
legal claims, and erased by :func:`sweep` once their period ends. A decision's period is the one
fixed when it was made (``retain_until``, from the pack and industry in force then: 30 days under
the MIIT rules, 5 years for a finance tenant, even if the tenant is no longer finance);
recordings keep the terms they were ingested with, and legal holds. A consent record a retained
decision relied on (its ``consent_ref``) is the evidence that call was lawful: it is restricted
until the last such decision's period ends, not deleted. A person who had opted out stays
blocked through a keyed hash of the number.

Audit entries name the person by keyed hash and mask every number, so erasure never has to touch
the hash chain; their evidence digests are salted per row, and the salt goes with the row. The
trade-off: reading the audit log needs the subject key to tell whose entry it is. On SQLite the
database runs with ``secure_delete`` and, after each erasure and sweep has committed, the
write-ahead log is checkpointed and truncated (:meth:`~dialguard.storage.store.Store.truncate_wal`),
so erased values are left neither in the database file nor in its ``-wal``. Registering, auditing,
the evidence of the rows erased and that truncation are :mod:`dialguard.ops.dsr`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..policy.pack import RetentionClass, RulePack
from ..storage.dsr_requests import DsrStatus
from ..storage.store import Transaction
from ..storage.subject_data import DecisionRow, Held

ACTOR_SWEEP = "dsr-sweep"


@dataclass(frozen=True)
class RetentionRules:
    """How long call records must be kept. A decision stores its class and the end of its
    retention when it is made; this resolves the class's legal basis, and the period of
    decisions stored before ``retain_until`` existed (their class was filled in by the upgrade
    from the tenant's industry at the time: the packs name an industry's class after it, and a
    name the pack lacks is its default class)."""

    classes: Mapping[str, RetentionClass]
    default: str

    @classmethod
    def from_pack(cls, pack: RulePack) -> RetentionRules:
        return cls(pack.retention, pack.retention_class)

    def for_decision(self, retention_class: str | None) -> RetentionClass:
        return self.classes.get(retention_class or self.default) or self.classes[self.default]

    def held_until(self, row: DecisionRow) -> tuple[datetime, str]:
        """When ``row``'s retention ends, and on what legal basis it is kept until then (a
        class this pack lacks was fixed by the pack in force when the call was decided)."""
        kept = self.for_decision(row.retention_class)
        if row.retain_until is None:
            return row.decided_at + timedelta(days=kept.days), kept.legal_basis
        if row.retention_class in self.classes:
            return row.retain_until, kept.legal_basis
        return row.retain_until, f"retention class {row.retention_class} of the rule pack in force"


@dataclass(frozen=True)
class ErasureReport:
    request_id: int
    status: DsrStatus
    erased: dict[str, int]
    held: tuple[Held, ...]
    legacy_audit_entries: int
    """Audit entries naming the raw number, from before pseudonymisation (immutable)."""
    wal_truncated: bool | None = None
    """SQLite: whether the write-ahead log could be checkpointed and emptied right away (False:
    a long reader held it; the next checkpoint completes it). None on PostgreSQL, where dead
    tuples stay on disk until VACUUM (see ``docs/operators/audit-and-dsr.md``)."""

    def outcome(self) -> dict[str, Any]:
        """What was erased and restricted, as the register and the audit entry keep it."""
        return {
            "erased": self.erased,
            "restricted": [
                {**asdict(h), "until": h.until and h.until.isoformat()} for h in self.held
            ],
            "legacy_audit_entries": self.legacy_audit_entries,
        }


async def _held_decisions(
    tx: Transaction, rules: RetentionRules, number: str, now: datetime
) -> tuple[list[Held], list[int], list[tuple[DecisionRow, datetime]]]:
    """Decisions still under retention (restricted) and those past it (deleted), and the held
    rows themselves with their end (for the consents they relied on)."""
    held: list[Held] = []
    expired: list[int] = []
    kept: list[tuple[DecisionRow, datetime]] = []
    for row in await tx.subject_data.decisions_of(number):
        until, basis = rules.held_until(row)
        if until > now:
            held.append(Held("decisions", row.id, basis, until))
            kept.append((row, until))
        else:
            expired.append(row.id)
    return held, expired, kept


async def _held_consents(
    tx: Transaction, number: str, kept: list[tuple[DecisionRow, datetime]]
) -> list[Held]:
    """Consents of ``number`` that a retained decision relied on, held as long as the longest
    of those decisions."""
    relied: dict[tuple[str, str], datetime] = {}
    for row, until in kept:
        if row.callee == number and row.consent_ref is not None:
            key = (row.tenant, row.consent_ref)
            relied[key] = max(relied.get(key, until), until)
    held: list[Held] = []
    for consent in await tx.subject_data.consents_of(number):
        relied_until = relied.get((consent.tenant, consent.evidence_ref))
        if relied_until is not None:
            basis = "evidence of the consent a retained call decision relied on"
            held.append(Held("consents", consent.id, basis, relied_until))
    return held


async def _held_recordings(tx: Transaction, number: str) -> tuple[list[Held], list[int]]:
    held: list[Held] = []
    tombstones: list[int] = []
    for row in await tx.subject_data.recordings_of(number):
        if row.deleted_at is not None:
            tombstones.append(row.id)
        elif row.legal_hold:
            held.append(Held("recordings", row.id, f"legal hold: {row.hold_reason}", None))
        else:
            # Past its term but not yet swept: the retention sweep deletes the audio, and our
            # sweep then scrubs the tombstone.
            held.append(Held("recordings", row.id, row.legal_basis, row.retain_until))
    return held, tombstones


async def erase_subject(
    tx: Transaction, pack: RulePack, number: str, request_id: int, *, by: str, now: datetime
) -> ErasureReport:
    """Erase ``number``'s personal data in ``tx``, restricting what must be kept (retention
    classes from ``pack``, see :class:`RetentionRules`), and finish request ``request_id``
    (auditing it is :mod:`dialguard.ops.dsr`'s)."""
    rules = RetentionRules.from_pack(pack)
    digest = tx.subject_key.digest(number)
    held_decisions, expired, kept = await _held_decisions(tx, rules, number, now)
    held_consents = await _held_consents(tx, number, kept)
    erased = await tx.subject_data.erase_unretained(
        number, digest, now, [h.id for h in held_consents]
    )
    held_recordings, tombstones = await _held_recordings(tx, number)
    held = (*held_decisions, *held_consents, *held_recordings)
    erased["decisions"] = await tx.subject_data.delete_decisions(expired)
    erased["recording_tombstones_masked"] = await tx.subject_data.scrub_tombstones(tombstones)
    await tx.subject_data.restrict(held)
    legacy = await tx.subject_data.legacy_audit_entries(number)
    status = DsrStatus.RESTRICTED if held else DsrStatus.COMPLETED
    report = ErasureReport(request_id, status, erased, held, legacy)
    await tx.dsr.finish(request_id, status, at=now, by=by, outcome=report.outcome())
    return report


@dataclass(frozen=True)
class SweepReport:
    decisions_erased: int
    consents_erased: int
    tombstones_masked: int
    requests_completed: tuple[int, ...]

    @property
    def erased_anything(self) -> bool:
        """Whether personal data left the database (rows deleted or tombstones scrubbed)."""
        return bool(self.decisions_erased or self.consents_erased or self.tombstones_masked)


async def sweep(tx: Transaction, *, now: datetime, by: str = ACTOR_SWEEP) -> SweepReport:
    """Erase restricted rows whose retention period has ended, and close erasure requests that
    have nothing restricted left. Recording audio is deleted by the retention sweep; this masks
    the numbers on the tombstones it leaves."""
    data = tx.subject_data
    erased = await data.delete_decisions(await data.expired_restricted("decisions", now))
    consents = await data.delete_consents(await data.expired_restricted("consents", now))
    masked = await data.scrub_tombstones()
    completed: list[int] = []
    for request in await tx.dsr.list(status=DsrStatus.RESTRICTED):
        held = [Held(h["table"], h["id"], h["basis"], None) for h in request.outcome["restricted"]]
        if not await data.still_restricted(held):
            await tx.dsr.finish(
                request.id, DsrStatus.COMPLETED, at=now, by=by, outcome=request.outcome
            )
            completed.append(request.id)
    return SweepReport(erased, consents, masked, tuple(completed))

"""Erasure (PIPL Art 47, GDPR Art 17) with restriction where the law still requires keeping.

What no law requires goes at once. Decisions and recordings that a retention class still covers
(the rule pack's: 30 days under the MIIT rules, 5 years for finance tenants; recordings keep the
terms they were ingested with, and legal holds) are kept but restricted: excluded from listings
and the call path, usable only for storage and legal claims, and erased by :func:`sweep` once
their period ends. A person who had opted out stays blocked through a keyed hash of the number.

Audit entries name the person by keyed hash and mask every number, so erasure never has to touch
the hash chain. The trade-off: reading the audit log needs the subject key to tell whose entry it
is. Registering, auditing and the evidence of the rows erased are :mod:`dialguard.ops.dsr`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..policy.pack import RetentionClass, RulePack
from ..storage.store import Transaction
from .requests import DsrStatus
from .subject_data import Held

ACTOR_SWEEP = "dsr-sweep"


@dataclass(frozen=True)
class RetentionRules:
    """How long call records must be kept. A decision carries its class only when the call was
    recorded; otherwise the tenant's industry picks it, by the packs' convention that an
    industry's overlay assigns the class of the same name (``finance``), else the default."""

    classes: Mapping[str, RetentionClass]
    default: str

    @classmethod
    def from_pack(cls, pack: RulePack) -> RetentionRules:
        return cls(pack.retention, pack.retention_class)

    def for_decision(self, retention_class: str | None, industry: str) -> RetentionClass:
        name = retention_class or (industry if industry in self.classes else self.default)
        return self.classes.get(name) or self.classes[self.default]


@dataclass(frozen=True)
class ErasureReport:
    request_id: int
    status: DsrStatus
    erased: dict[str, int]
    held: tuple[Held, ...]
    legacy_audit_entries: int
    """Audit entries naming the raw number, from before pseudonymisation (immutable)."""

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
) -> tuple[list[Held], list[int]]:
    industries = await tx.subject_data.industries()
    held: list[Held] = []
    expired: list[int] = []
    for row in await tx.subject_data.decisions_of(number):
        rc = rules.for_decision(row.retention_class, industries.get(row.tenant, "general"))
        until = row.decided_at + timedelta(days=rc.days)
        if until > now:
            held.append(Held("decisions", row.id, rc.legal_basis, until))
        else:
            expired.append(row.id)
    return held, expired


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
    erased = await tx.subject_data.erase_unretained(number, digest, now)
    held_decisions, expired = await _held_decisions(tx, rules, number, now)
    held_recordings, tombstones = await _held_recordings(tx, number)
    held = (*held_decisions, *held_recordings)
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
    tombstones_masked: int
    requests_completed: tuple[int, ...]


async def sweep(tx: Transaction, *, now: datetime, by: str = ACTOR_SWEEP) -> SweepReport:
    """Erase restricted rows whose retention period has ended, and close erasure requests that
    have nothing restricted left. Recording audio is deleted by the retention sweep; this masks
    the numbers on the tombstones it leaves."""
    expired = await tx.subject_data.expired_restricted_decisions(now)
    erased = await tx.subject_data.delete_decisions(expired)
    masked = await tx.subject_data.scrub_tombstones()
    completed: list[int] = []
    for request in await tx.dsr.list(status=DsrStatus.RESTRICTED):
        held = [Held(h["table"], h["id"], h["basis"], None) for h in request.outcome["restricted"]]
        if not await tx.subject_data.still_restricted(held):
            await tx.dsr.finish(
                request.id, DsrStatus.COMPLETED, at=now, by=by, outcome=request.outcome
            )
            completed.append(request.id)
    return SweepReport(erased, masked, tuple(completed))

"""Data-subject requests (PIPL Art 44–47, GDPR Art 15–18): received onto the register, then
handled — export, correction, erasure — each in one transaction with its audit entry.

Entries name the subject by pseudonym only. An erasure's entry carries the evidence of every
evidentiary row it deleted or restricted (consents, DNC entries, decisions past their retention,
recording tombstones scrubbed), so the chain still vouches for what is left; the sweep's entry
likewise for what it erases.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime, timedelta

from ..numbers import mask
from ..policy.pack import RulePack
from ..rights import erase as erasure
from ..rights.correct import Correction, correct_contact
from ..rights.export import Export, export_subject
from ..rights.sensitive import ExportRole
from ..storage.dsr_requests import DsrKind, DsrRequest, DsrStatus, UnknownRequest
from ..storage.store import Store, Transaction
from .audited import Actor, Invalid, person, record

SWEEP_SUBJECT = "restricted-records"


async def _begin(
    tx: Transaction,
    actor: Actor,
    kind: DsrKind,
    number: str,
    *,
    request_id: int | None,
    deadline_days: int,
    received: datetime | None = None,
) -> DsrRequest:
    """The open request ``request_id`` (checked to be about ``number`` and of ``kind``), or a
    new one received now (or at ``received``), audited ``dsr.receive``: a request handled on the
    spot is still on the register."""
    digest = tx.subject_key.digest(number)
    if request_id is None:
        at = received or actor.now
        request = await tx.dsr.add(
            kind,
            digest,
            mask(number),
            received_at=at,
            deadline=at + timedelta(days=deadline_days),
            by=actor.name,
        )
        after = {
            "kind": kind.value,
            "status": request.status.value,
            "received": request.received_at,
            "deadline": request.deadline,
        }
        detail = {"request": request.id, "before": None, "after": after}
        await record(tx, actor, "dsr.receive", person(tx, number), detail)
        return request
    found = await tx.dsr.get(request_id)
    if found is None:
        raise UnknownRequest(f"no data-subject request #{request_id}")
    if found.subject_hash != digest or found.kind is not kind:
        raise Invalid("request_id", f"#{request_id} is not the {kind} request of {mask(number)}")
    if found.status is not DsrStatus.OPEN:
        raise Invalid("request_id", f"#{request_id} is already {found.status}")
    return found


async def receive(
    store: Store,
    actor: Actor,
    kind: DsrKind | str,
    number: str,
    *,
    deadline_days: int,
    received: datetime | None = None,
) -> DsrRequest:
    """Put a request on the register, to be handled within ``deadline_days`` of ``received``
    (default: now)."""
    try:
        kind = DsrKind(kind)
    except ValueError:
        raise Invalid("kind", f"must be one of {', '.join(k.value for k in DsrKind)}") from None
    async with store.transaction() as tx:
        return await _begin(
            tx,
            actor,
            kind,
            number,
            request_id=None,
            deadline_days=deadline_days,
            received=received,
        )


async def export(
    store: Store,
    actor: Actor,
    number: str,
    *,
    deadline_days: int,
    request_id: int | None = None,
    as_role: ExportRole | None = None,
) -> Export:
    """Everything held about ``number`` (see :func:`~dialguard.rights.export.export_subject`);
    audited ``dsr.export`` with the counts."""
    async with store.transaction() as tx:
        request = await _begin(
            tx, actor, DsrKind.EXPORT, number, request_id=request_id, deadline_days=deadline_days
        )
        done = await export_subject(
            tx, number, request.id, by=actor.name, now=actor.now, as_role=as_role
        )
        detail = {
            "request": request.id,
            "before": {"status": request.status.value},
            "after": {"status": DsrStatus.COMPLETED.value, "counts": done.counts},
        }
        await record(tx, actor, "dsr.export", person(tx, number), detail)
    return done


async def correct(
    store: Store,
    actor: Actor,
    number: str,
    *,
    deadline_days: int,
    minor: bool | None = None,
    guardian: bool | None = None,
    request_id: int | None = None,
) -> Correction:
    """Correct ``number``'s contact flags (None: leave as is); audited ``dsr.correct`` with
    before and after."""
    if minor is None and guardian is None:
        raise Invalid("minor", "a correction needs minor and/or guardian")
    async with store.transaction() as tx:
        request = await _begin(
            tx, actor, DsrKind.CORRECT, number, request_id=request_id, deadline_days=deadline_days
        )
        done = await correct_contact(
            tx, number, request.id, minor=minor, guardian=guardian, by=actor.name, now=actor.now
        )
        detail = {"request": request.id, **done.flags()}
        await record(tx, actor, "dsr.correct", person(tx, number), detail)
    return done


async def erase(
    store: Store,
    actor: Actor,
    pack: RulePack,
    number: str,
    *,
    deadline_days: int,
    request_id: int | None = None,
) -> erasure.ErasureReport:
    """Erase ``number``'s personal data, restricting what a retention period still covers (see
    :func:`~dialguard.rights.erase.erase_subject`); audited ``dsr.erase`` with what was erased
    and restricted and the evidence of every evidentiary row deleted or restricted. Once that
    has committed, an SQLite database's write-ahead log is truncated, so the erased values'
    old pages leave the ``-wal`` (the report says whether it could be)."""
    async with store.transaction() as tx:
        request = await _begin(
            tx, actor, DsrKind.ERASE, number, request_id=request_id, deadline_days=deadline_days
        )
        report = await erasure.erase_subject(
            tx, pack, number, request.id, by=actor.name, now=actor.now
        )
        detail = {
            "request": request.id,
            "before": {"status": request.status.value},
            "after": {"status": report.status.value, **report.outcome()},
        }
        await record(tx, actor, "dsr.erase", person(tx, number), detail)
    return replace(report, wal_truncated=await store.truncate_wal())


async def sweep(store: Store, actor: Actor) -> erasure.SweepReport:
    """Erase restricted rows whose retention period has ended (see
    :func:`~dialguard.rights.erase.sweep`); audited ``dsr.sweep``, with the evidence of the
    rows erased and scrubbed, when it changed anything. Then, if it erased anything, the
    write-ahead log is truncated as after an erasure."""
    async with store.transaction() as tx:
        report = await erasure.sweep(tx, now=actor.now, by=actor.name)
        if report.erased_anything or report.requests_completed:
            await record(tx, actor, "dsr.sweep", SWEEP_SUBJECT, asdict(report))
    if report.erased_anything:
        await store.truncate_wal()
    return report

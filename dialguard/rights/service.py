"""Receiving and listing data-subject requests; the shared first step of handling one."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..numbers import mask
from ..storage.store import Store, Transaction
from .requests import DsrKind, DsrRequest, DsrStatus, UnknownRequest


async def begin_request(
    tx: Transaction,
    kind: DsrKind,
    number: str,
    *,
    request_id: int | None,
    by: str,
    now: datetime,
    deadline_days: int,
) -> DsrRequest:
    """The open request ``request_id`` (checked to be about ``number`` and of ``kind``), or a new
    one received ``now`` when None: a request handled on the spot is still on the register."""
    digest = tx.subject_key.digest(number)
    if request_id is None:
        request = await tx.dsr.add(
            kind,
            digest,
            mask(number),
            received_at=now,
            deadline=now + timedelta(days=deadline_days),
            by=by,
        )
        await tx.audit.append(
            by,
            "dsr.receive",
            tx.subject_key.subject(number),
            {"request": request.id, "kind": kind.value, "deadline": request.deadline.isoformat()},
        )
        return request
    found = await tx.dsr.get(request_id)
    if found is None:
        raise UnknownRequest(f"no data-subject request #{request_id}")
    if found.subject_hash != digest or found.kind is not kind:
        raise ValueError(f"request #{request_id} is not a {kind} request about {mask(number)}")
    if found.status is not DsrStatus.OPEN:
        raise ValueError(f"request #{request_id} is already {found.status}")
    return found


async def receive_request(
    store: Store,
    kind: DsrKind | str,
    number: str,
    *,
    by: str,
    received_at: datetime,
    deadline_days: int,
) -> DsrRequest:
    """Put a request on the register (to be handled later, within ``deadline_days``)."""
    async with store.transaction() as tx:
        return await begin_request(
            tx,
            DsrKind(kind),
            number,
            request_id=None,
            by=by,
            now=received_at,
            deadline_days=deadline_days,
        )


async def list_requests(
    store: Store, *, open_only: bool = False, number: str | None = None
) -> tuple[DsrRequest, ...]:
    async with store.transaction(readonly=True) as tx:
        digest = None if number is None else tx.subject_key.digest(number)
        status = DsrStatus.OPEN if open_only else None
        return await tx.dsr.list(status=status, subject_hash=digest)

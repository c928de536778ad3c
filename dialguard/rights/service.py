"""Listing data-subject requests (receiving and handling them are audited operations,
:mod:`dialguard.ops.dsr`)."""

from __future__ import annotations

from ..storage.dsr_requests import DsrRequest, DsrStatus
from ..storage.store import Store


async def list_requests(
    store: Store, *, open_only: bool = False, number: str | None = None
) -> tuple[DsrRequest, ...]:
    async with store.transaction(readonly=True) as tx:
        digest = None if number is None else tx.subject_key.digest(number)
        status = DsrStatus.OPEN if open_only else None
        return await tx.dsr.list(status=status, subject_hash=digest)

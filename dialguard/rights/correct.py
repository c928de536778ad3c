"""Correction requests (PIPL Art 46, GDPR Art 16) of the contact data the policy relies on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..policy.model import ContactFlags
from ..storage.store import Store
from .requests import DsrKind, DsrStatus
from .service import begin_request


@dataclass(frozen=True)
class Correction:
    request_id: int
    before: ContactFlags | None
    after: ContactFlags


async def correct_contact(
    store: Store,
    number: str,
    *,
    minor: bool | None = None,
    guardian: bool | None = None,
    by: str,
    now: datetime,
    deadline_days: int,
    request_id: int | None = None,
) -> Correction:
    """Set the flags given (None: leave as is); audited with before and after, numbers masked
    out of the detail (the entry's subject is the number's pseudonym)."""
    async with store.transaction() as tx:
        request = await begin_request(
            tx,
            DsrKind.CORRECT,
            number,
            request_id=request_id,
            by=by,
            now=now,
            deadline_days=deadline_days,
        )
        before = await tx.contacts.get(number)
        after = before or ContactFlags(number=number)
        if minor is not None:
            after = replace(after, minor=minor)
        if guardian is not None:
            after = replace(after, guardian=guardian)
        outcome = await tx.contacts.upsert(after, at=now)
        flags = {"before": _flags(before), "after": _flags(after), "outcome": outcome.value}
        await tx.dsr.finish(request.id, DsrStatus.COMPLETED, at=now, by=by, outcome=flags)
        await tx.audit.append(
            by, "dsr.correct", tx.subject_key.subject(number), {"request": request.id, **flags}
        )
    return Correction(request.id, before, after)


def _flags(flags: ContactFlags | None) -> dict[str, bool] | None:
    if flags is None:
        return None
    return {"minor": flags.minor, "guardian": flags.guardian}

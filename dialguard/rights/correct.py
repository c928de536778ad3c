"""Correction requests (PIPL Art 46, GDPR Art 16) of the contact data the policy relies on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..policy.model import ContactFlags
from ..storage.dsr_requests import DsrStatus
from ..storage.records import Outcome
from ..storage.store import Transaction


@dataclass(frozen=True)
class Correction:
    request_id: int
    before: ContactFlags | None
    after: ContactFlags
    outcome: Outcome

    def flags(self) -> dict[str, Any]:
        """Before, after and outcome as the register and the audit entry keep them."""
        return {
            "before": _flags(self.before),
            "after": _flags(self.after),
            "outcome": self.outcome.value,
        }


async def correct_contact(
    tx: Transaction,
    number: str,
    request_id: int,
    *,
    minor: bool | None = None,
    guardian: bool | None = None,
    by: str,
    now: datetime,
) -> Correction:
    """Set the flags given (None: leave as is) and complete request ``request_id`` with before
    and after (auditing it is :mod:`dialguard.ops.dsr`'s)."""
    before = await tx.contacts.get(number)
    after = before or ContactFlags(number=number)
    if minor is not None:
        after = replace(after, minor=minor)
    if guardian is not None:
        after = replace(after, guardian=guardian)
    outcome = await tx.contacts.upsert(after, at=now)
    correction = Correction(request_id, before, after, outcome)
    await tx.dsr.finish(request_id, DsrStatus.COMPLETED, at=now, by=by, outcome=correction.flags())
    return correction


def _flags(flags: ContactFlags | None) -> dict[str, bool] | None:
    if flags is None:
        return None
    return {"minor": flags.minor, "guardian": flags.guardian}

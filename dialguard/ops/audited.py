"""What every audited operation shares: who acts, how its entry is written, what it vouches for.

:func:`record` is the one place an admin action's audit entry is appended: its subject and detail
go through the one masker (:func:`dialguard.rights.pseudonyms.masked`), so no door can store a
number in clear that another door would have masked. A person is named by pseudonym
(:func:`person`); their number appears nowhere else in the entry, free text included.

The entry also vouches for every evidentiary row the operation wrote: the repositories note each
row they insert, update or delete in the transaction, and :func:`record` turns those into
``evidence`` items (:mod:`dialguard.storage.row_digests`), read back as verification reads them. An
operation cannot forget a row it wrote through a repository, nor vouch for one it did not write.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..rights.pseudonyms import masked
from ..storage.records import AuditEntry
from ..views import jsonable

if TYPE_CHECKING:
    from ..storage.store import Transaction


@dataclass(frozen=True)
class Actor:
    """Who acts and when (kept in UTC, as rows store it); ``region`` reads the national numbers
    typed in their free text."""

    name: str
    now: datetime
    region: str = "CN"

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError(f"naive datetime {self.now!r}: an actor acts at an aware instant")
        object.__setattr__(self, "now", self.now.astimezone(UTC))


class Invalid(ValueError):
    """Input an operation refuses; names the field (the API's body field, the CLI's option)."""

    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why}")


def required_text(field: str, value: str | None) -> str:
    """``value`` stripped; :class:`Invalid` when absent or blank."""
    if value is None or not value.strip():
        raise Invalid(field, "is required and must not be blank")
    return value.strip()


def person(tx: Transaction, number: str) -> str:
    """How an entry names the person ``number`` belongs to: ``n:<keyed pseudonym>``."""
    return tx.subject_key.subject(number)


async def record(
    tx: Transaction,
    actor: Actor,
    action: str,
    subject: str,
    detail: Mapping[str, Any],
    *,
    ours: Collection[str] = (),
) -> AuditEntry:
    """Append the entry of ``action`` in ``tx``: subject and detail as JSON (instants in UTC)
    with every phone number masked but ``ours`` (E.164: the tenant's own registered access
    numbers), then ``evidence``: an item for every evidentiary row ``tx`` has written since
    its previous entry (:meth:`~dialguard.storage.evidence.EvidenceRepository.changed`), added
    after the masking (a digest is hex, and a run of its digits is no phone number)."""
    plain = masked(jsonable(dict(detail), utc=True), actor.region, ours)
    evidence = await tx.evidence.changed()
    if evidence:
        plain["evidence"] = evidence
    about = masked(subject, actor.region, ours)
    return await tx.audit.append(actor.name, action, about, plain, at=actor.now)

"""What every audited operation shares: who acts, how its entry is written, what it vouches for.

:func:`record` is the one place an admin action's audit entry is appended: its subject and detail
go through the one masker (:func:`dialguard.rights.pseudonyms.masked`), so no door can store a
number in clear that another door would have masked. A person is named by pseudonym
(:func:`person`); their number appears nowhere else in the entry, free text included.

:class:`Watch` reads the evidentiary rows an operation may touch before it changes them and again
after, and turns every row created, changed or deleted into an ``evidence`` item
(:mod:`dialguard.audit.evidence`) of the entry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..audit.evidence import EVIDENCE_FIELDS, ROW_KEYS, Evidence, evidence, gone
from ..rights.pseudonyms import masked
from ..storage.records import AuditEntry
from ..storage.store import Transaction
from ..views import jsonable

EVIDENTIARY = ("consents", "dnc_entries", "registered_numbers", "decisions")


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
    evidence: Sequence[Evidence] = (),
    ours: Collection[str] = (),
) -> AuditEntry:
    """Append the entry of ``action`` in ``tx``: subject and detail as JSON (instants in UTC)
    with every phone number masked but ``ours`` (E.164: the tenant's own registered access
    numbers), and ``evidence`` as given (row keys and digests, never masked)."""
    plain = masked(jsonable(dict(detail), utc=True), actor.region, ours)
    if evidence:
        plain["evidence"] = list(evidence)
    about = masked(subject, actor.region, ours)
    return await tx.audit.append(actor.name, action, about, plain, at=actor.now)


Rows = dict[str, dict[str, Any]]


class Watch:
    """The evidentiary rows about some numbers, read before a change (:meth:`start`); after it,
    :meth:`changes` reads them again and names every row created, changed or deleted."""

    def __init__(self, numbers: Collection[str], tables: Sequence[str], before: dict[str, Rows]):
        self._numbers = numbers
        self._tables = tables
        self._before = before

    @classmethod
    async def start(
        cls, tx: Transaction, numbers: Collection[str], tables: Sequence[str] = EVIDENTIARY
    ) -> Watch:
        return cls(numbers, tables, {t: await _rows(tx, t, numbers) for t in tables})

    async def changes(self, tx: Transaction) -> list[Evidence]:
        items: list[Evidence] = []
        for table in self._tables:
            items += changed(table, self._before[table], await _rows(tx, table, self._numbers))
        return items


async def _rows(tx: Transaction, table: str, numbers: Collection[str]) -> Rows:
    return keyed(table, await tx.evidence_rows.of_numbers(table, numbers))


def keyed(table: str, rows: Sequence[dict[str, Any]]) -> Rows:
    """``rows`` of ``table`` by the key its evidence items name them with."""
    key = ROW_KEYS[table]
    return {str(row[key]): row for row in rows}


def changed(table: str, before: Rows, after: Rows) -> list[Evidence]:
    """Evidence for each row of ``after`` that is new or whose evidentiary fields differ from
    ``before`` (in key order), then for each row of ``before`` that is gone."""
    fields = EVIDENCE_FIELDS[table]
    items: list[Evidence] = []
    for key in sorted(after, key=_order):
        row = after[key]
        old = before.get(key)
        if old is None or any(old[name] != row[name] for name in fields):
            items.append(evidence(table, row))
    items += [gone(table, key) for key in sorted(before.keys() - after.keys(), key=_order)]
    return items


def _order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)

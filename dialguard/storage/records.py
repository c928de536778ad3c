"""Frozen records the repositories return where :mod:`dialguard.policy.model` has no fitting one."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..policy.model import DncEntry

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def require_e164(number: str) -> str:
    """Return ``number`` if it is in E.164 form, else raise a ValueError naming it.

    Repositories store one canonical form only; turning dialled text into it is the caller's job
    (:func:`dialguard.numbers.normalize`), so that "the same number" is the same row.
    """
    if not isinstance(number, str) or not _E164.match(number):
        raise ValueError(
            f"expected an E.164 number such as '+8613800138000', got {number!r}: "
            "normalise it with dialguard.numbers.normalize first"
        )
    return number


class Outcome(enum.StrEnum):
    """What a write did: the CLI reports it and re-running an import shows ``unchanged``."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    industry: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ImportCounts:
    inserted: int = 0
    already_present: int = 0

    def __add__(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(
            self.inserted + other.inserted, self.already_present + other.already_present
        )


@dataclass(frozen=True, slots=True)
class DncRecord:
    """A DNC row with its removal history; removed rows are kept as evidence."""

    entry: DncEntry
    removed_at: datetime | None
    removed_by: str | None
    removal_reason: str | None


@dataclass(frozen=True, slots=True)
class FrequencyReset:
    callee: str
    tenant: str
    at: datetime
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the admin-action hash chain (see :mod:`dialguard.storage.audit`)."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: Any
    prev_hash: str
    hash: str

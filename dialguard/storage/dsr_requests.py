"""Data-subject requests (PIPL Art 44–47, GDPR Art 15–18): what was asked, by when, what was done.

A request names its subject by keyed hash and masked number only: the register of erasure
requests must not itself become a list of the people who asked to be forgotten.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .rights_tables import dsr_requests as t


class DsrKind(enum.StrEnum):
    EXPORT = "export"
    CORRECT = "correct"
    ERASE = "erase"


class DsrStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    RESTRICTED = "restricted"
    """Erased except records a legal retention period still covers; the sweep finishes it."""


class UnknownRequest(ValueError):
    pass


@dataclass(frozen=True)
class DsrRequest:
    id: int
    kind: DsrKind
    subject_hash: str
    subject_masked: str
    received_at: datetime
    deadline: datetime
    status: DsrStatus
    completed_at: datetime | None
    handled_by: str
    outcome: Any

    def overdue(self, now: datetime) -> bool:
        return self.status is DsrStatus.OPEN and now > self.deadline


def _request(row: Row[Any]) -> DsrRequest:
    return DsrRequest(
        id=row.id,
        kind=DsrKind(row.kind),
        subject_hash=row.subject_hash,
        subject_masked=row.subject_masked,
        received_at=row.received_at,
        deadline=row.deadline,
        status=DsrStatus(row.status),
        completed_at=row.completed_at,
        handled_by=row.handled_by,
        outcome=row.outcome,
    )


class DsrRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self,
        kind: DsrKind,
        subject_hash: str,
        subject_masked: str,
        *,
        received_at: datetime,
        deadline: datetime,
        by: str,
    ) -> DsrRequest:
        row = (
            await self._conn.execute(
                t.insert()
                .values(
                    kind=DsrKind(kind).value,
                    subject_hash=subject_hash,
                    subject_masked=subject_masked,
                    received_at=received_at,
                    deadline=deadline,
                    status=DsrStatus.OPEN.value,
                    handled_by=by,
                )
                .returning(*t.c)
            )
        ).one()
        return _request(row)

    async def get(self, request_id: int) -> DsrRequest | None:
        row = (await self._conn.execute(select(t).where(t.c.id == request_id))).first()
        return None if row is None else _request(row)

    async def finish(
        self, request_id: int, status: DsrStatus, *, at: datetime, by: str, outcome: Any
    ) -> None:
        await self._conn.execute(
            update(t)
            .where(t.c.id == request_id)
            .values(status=status.value, completed_at=at, handled_by=by, outcome=outcome)
        )

    async def list(
        self, *, status: DsrStatus | None = None, subject_hash: str | None = None
    ) -> tuple[DsrRequest, ...]:
        """Oldest deadline first: the order they must be answered in."""
        query = select(t).order_by(t.c.deadline, t.c.id)
        if status is not None:
            query = query.where(t.c.status == DsrStatus(status).value)
        if subject_hash is not None:
            query = query.where(t.c.subject_hash == subject_hash)
        return tuple(_request(row) for row in await self._conn.execute(query))

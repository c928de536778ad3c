"""The recordings repository: SQL stays here, frozen dataclasses come out.

It works inside the caller's transaction, like the other repositories, and is wired into
:class:`dialguard.storage.Transaction` as ``tx.recordings``. The services take anything whose
``transaction()`` yields an object with ``.recordings`` (:class:`RecordingStore`); it is generic
in that object so a service's hook gets the caller's full transaction (``tx.audit`` included)
and can write to it before the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ._common import insert_ignoring_conflicts
from .evidence import Changes
from .recording_records import (
    CallSource,
    EventAction,
    NewRecording,
    Notice,
    NoticeStatus,
    Recording,
    RecordingEvent,
    RetentionTerms,
)
from .recording_tables import recording_events as ev
from .recording_tables import recordings as t
from .schema import decisions


class HasRecordings(Protocol):
    @property
    def recordings(self) -> RecordingRepository: ...


TxT_co = TypeVar("TxT_co", bound=HasRecordings, covariant=True)


class RecordingStore(Protocol[TxT_co]):
    def transaction(self, *, readonly: bool = False) -> AbstractAsyncContextManager[TxT_co]: ...


def _recording(row: Row[Any]) -> Recording:
    return Recording(
        id=row.id,
        name=row.name,
        decision_id=row.decision_id,
        call_id=row.call_id,
        caller=row.caller,
        callee=row.callee,
        tenant=row.tenant,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_ms=row.duration_ms,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        key_id=row.key_id,
        region=row.region,
        vault_path=row.vault_path,
        terms=RetentionTerms(
            row.retention_class,
            row.legal_basis,
            row.anchor_event,
            row.anchor_at,
            row.min_days,
            row.retain_until,
        ),
        legal_hold=row.legal_hold,
        hold_reason=row.hold_reason,
        hold_by=row.hold_by,
        hold_at=row.hold_at,
        ingested_at=row.ingested_at,
        deleted_at=row.deleted_at,
        deleted_by=row.deleted_by,
        deleted_hash=row.deleted_hash,
        notice=None
        if row.notice is None
        else Notice(NoticeStatus(row.notice), row.notice_prompt or ""),
    )


class RecordingRepository:
    def __init__(self, conn: AsyncConnection, changes: Changes) -> None:
        self._conn = conn
        self._changes = changes

    async def source_for(self, key: str) -> CallSource | None:
        """The latest allowed, recorded decision whose call id (``dg-<uniqueid>``) or decision
        id (``dg-<decision id>``) is ``key``."""
        d = decisions.c
        row = (
            await self._conn.execute(
                select(decisions)
                .where(
                    ((d.call_id == key) | (d.decision_id == key))
                    & (d.verdict == "allow")
                    & d.record.is_(True)
                )
                .order_by(d.decided_at.desc(), d.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return CallSource(
            decision_id=row.decision_id,
            call_id=row.call_id,
            caller=row.caller_e164 or row.caller_raw,
            callee=row.callee_e164 or row.callee_raw,
            tenant=row.tenant,
            retention_class=row.retention_class,
            decided_at=row.decided_at,
            notice_required=row.notice is not None,
        )

    async def add(self, new: NewRecording) -> Recording | None:
        """Insert, and set the decision's notice outcome from the recording's (the decision row
        and the vault entry say the same, or neither is written); None if a recording of that
        name exists already (a concurrent ingest), and nothing is changed."""
        s, terms = new.source, new.terms
        values = {
            "name": new.name,
            "decision_id": s.decision_id,
            "call_id": s.call_id,
            "caller": s.caller,
            "callee": s.callee,
            "tenant": s.tenant,
            "started_at": new.started_at,
            "ended_at": new.ended_at,
            "duration_ms": new.duration_ms,
            "size_bytes": new.size_bytes,
            "sha256": new.sha256,
            "key_id": new.key_id,
            "region": new.region,
            "vault_path": new.vault_path,
            "retention_class": terms.retention_class,
            "legal_basis": terms.legal_basis,
            "anchor_event": terms.anchor_event,
            "anchor_at": terms.anchor_at,
            "min_days": terms.min_days,
            "retain_until": terms.retain_until,
            "legal_hold": False,
            "ingested_at": new.ingested_at,
            "notice": None if new.notice is None else new.notice.status.value,
            "notice_prompt": None if new.notice is None else new.notice.prompt,
        }
        query = insert_ignoring_conflicts(self._conn, t).values(**values).returning(t)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        self._changes.note(t.name, [row.id])
        if new.notice is not None:
            await self._settle_notice(s.decision_id, new.notice)
        return _recording(row)

    async def _settle_notice(self, decision_id: str, notice: Notice) -> None:
        """The decision's ``notice`` becomes ``played`` or ``missing``. Its evidence digest
        does not cover the notice, so no evidence item is noted: the ``recording.ingest`` entry,
        which shows the recording's notice and decision id, vouches for the outcome."""
        await self._conn.execute(
            update(decisions)
            .where(decisions.c.decision_id == decision_id)
            .values(notice=notice.status.value, notice_prompt=notice.prompt)
        )

    async def get(self, recording_id: int, *, lock: bool = False) -> Recording | None:
        """``lock=True`` holds the row (``FOR UPDATE``; SQLite's write transaction already
        serialises writers) so a hold cannot slip in between a check and a deletion."""
        query = select(t).where(t.c.id == recording_id)
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else _recording(row)

    async def get_by_name(self, name: str) -> Recording | None:
        row = (await self._conn.execute(select(t).where(t.c.name == name))).first()
        return None if row is None else _recording(row)

    async def list(
        self,
        tenant: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        include_deleted: bool = False,
        callee: str | None = None,
    ) -> tuple[Recording, ...]:
        """Newest call first. Recordings restricted after their subject's erasure request are
        not listed (:mod:`dialguard.rights.erase`; only legal export reaches them)."""
        query = (
            select(t)
            .where(t.c.restricted.is_(False))
            .order_by(t.c.ended_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        if tenant is not None:
            query = query.where(t.c.tenant == tenant)
        if callee is not None:
            query = query.where(t.c.callee == callee)
        if since is not None:
            query = query.where(t.c.ended_at >= since)
        if not include_deleted:
            query = query.where(t.c.deleted_at.is_(None))
        return tuple(_recording(row) for row in await self._conn.execute(query))

    async def expired_ids(self, now: datetime) -> tuple[int, ...]:
        """Candidates for deletion: past ``retain_until``, not on hold, not yet deleted."""
        rows = await self._conn.execute(
            select(t.c.id)
            .where(
                t.c.deleted_at.is_(None)
                & t.c.legal_hold.is_(False)
                & t.c.retain_until.is_not(None)
                & (t.c.retain_until < now)
            )
            .order_by(t.c.retain_until, t.c.id)
        )
        return tuple(rows.scalars())

    async def live_ids(self) -> tuple[int, ...]:
        rows = await self._conn.execute(
            select(t.c.id).where(t.c.deleted_at.is_(None)).order_by(t.c.id)
        )
        return tuple(rows.scalars())

    async def _update(self, recording_id: int, **values: Any) -> None:
        await self._conn.execute(update(t).where(t.c.id == recording_id).values(**values))
        self._changes.note(t.name, [recording_id])

    async def _event(
        self, recording_id: int, at: datetime, action: EventAction, actor: str, reason: str
    ) -> None:
        await self._conn.execute(
            ev.insert().values(
                recording_id=recording_id, at=at, action=action.value, actor=actor, reason=reason
            )
        )

    async def set_hold(
        self, recording_id: int, held: bool, reason: str, by: str, at: datetime
    ) -> None:
        if held:
            await self._update(
                recording_id, legal_hold=True, hold_reason=reason, hold_by=by, hold_at=at
            )
        else:
            await self._update(
                recording_id, legal_hold=False, hold_reason=None, hold_by=None, hold_at=None
            )
        action = EventAction.HOLD if held else EventAction.RELEASE
        await self._event(recording_id, at, action, by, reason)

    async def set_anchor(
        self,
        recording_id: int,
        anchor_at: datetime,
        retain_until: datetime,
        by: str,
        at: datetime,
        reason: str,
    ) -> None:
        await self._update(recording_id, anchor_at=anchor_at, retain_until=retain_until)
        await self._event(recording_id, at, EventAction.ANCHOR, by, reason)

    async def tombstone(
        self, recording_id: int, by: str, at: datetime, deleted_hash: str | None, reason: str
    ) -> None:
        await self._update(recording_id, deleted_at=at, deleted_by=by, deleted_hash=deleted_hash)
        await self._event(recording_id, at, EventAction.DELETE, by, reason)

    async def set_key_id(self, recording_id: int, key_id: str) -> None:
        await self._update(recording_id, key_id=key_id)

    async def events(self, recording_id: int) -> Sequence[RecordingEvent]:
        rows = await self._conn.execute(
            select(ev).where(ev.c.recording_id == recording_id).order_by(ev.c.at, ev.c.id)
        )
        return tuple(
            RecordingEvent(r.recording_id, r.at, EventAction(r.action), r.actor, r.reason)
            for r in rows
        )

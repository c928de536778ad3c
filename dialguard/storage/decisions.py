"""The decision log (every call attempt and what was decided) and frequency resets.

Rows are evidence and are only ever inserted. A frequency reset does not touch them: it records a
marker, and :meth:`DecisionRepository.recent_allowed` counts only attempts after the latest one.
The exceptions are erasure (:mod:`dialguard.rights.erase`): rows still under retention are marked
``restricted`` — skipped by listings and the call path — and deleted when the period ends; and
the recording notice's outcome (``notice``, ``notice_prompt``), which the recording's ingest
settles (:meth:`~dialguard.storage.recordings.RecordingRepository.add`) and which the row's
evidence digest does not cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, Text, bindparam, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from ..policy.model import (
    NOTICE_MISSING,
    NOTICE_PLAYED,
    CallAttempt,
    Decision,
    Direction,
    Presentation,
    Reason,
    Verdict,
)
from . import decision_hours
from .columns import E164
from .records import FrequencyReset, require_e164
from .row_digests import SALT, new_salt
from .schema import decisions as t
from .schema import frequency_resets


def check_decision(decision: Decision) -> None:
    """Raise ValueError if ``decision`` cannot be stored (its numbers are not E.164)."""
    for number in (decision.caller, decision.callee):
        if number is not None:
            require_e164(number)


def decision_row(decision: Decision, idempotency_key: str | None = None) -> dict[str, Any]:
    """The ``decisions`` row of ``decision`` (also inserted by the SQLite decision writer), with
    a fresh evidence salt: the row's audit entry is built from this very mapping."""
    check_decision(decision)
    attempt = decision.attempt
    return {
        "decision_id": decision.decision_id,
        "call_id": attempt.call_id,
        "direction": Direction(attempt.direction).value,
        "presentation": Presentation(attempt.presentation).value,
        "caller_raw": attempt.caller,
        "caller_e164": decision.caller,
        "callee_raw": attempt.callee,
        "callee_e164": decision.callee,
        "tenant": attempt.tenant,
        "purpose": attempt.purpose,
        "campaign": attempt.campaign,
        "decided_at": decision.decided_at,
        "verdict": Verdict(decision.verdict).value,
        "reasons": _reasons_json(decision),
        "first_reason": decision.first_reason,
        "consent_ref": decision.consent_ref,
        "policy_version": decision.policy_version,
        "latency_ms": decision.latency_ms,
        "record": decision.record,
        "retention_class": decision.retention_class,
        "retain_until": decision.retain_until,
        "restricted": False,
        "restricted_until": None,
        SALT: new_salt(),
        "idempotency_key": idempotency_key,
        "notice": decision.notice_status,
        "notice_prompt": decision.notice_prompt,
    }


def decision_from(row: Any) -> Decision:
    """A ``decisions`` row (SQLAlchemy's, or a compiled select's) as a :class:`Decision`."""
    return _decision(row)


def _like_escaped(text: str) -> str:
    """``text`` matched literally in a LIKE pattern with escape character backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _reasons_json(decision: Decision) -> list[dict[str, str]]:
    """The reasons as stored; on a denial that time alone lifts, each carries the decision's
    ``next_allowed_at`` (ISO 8601 with the callee's offset): no column of its own."""
    extra = {}
    if decision.next_allowed_at is not None:
        extra["next_allowed_at"] = decision.next_allowed_at.isoformat()
    return [{"code": r.code, "message": r.message, **extra} for r in decision.reasons]


def _next_allowed_at(reasons: list[dict[str, str]]) -> datetime | None:
    stored = next((r["next_allowed_at"] for r in reasons if "next_allowed_at" in r), None)
    return None if stored is None else datetime.fromisoformat(stored)


def _decision(row: Row[Any]) -> Decision:
    return Decision(
        decision_id=row.decision_id,
        verdict=Verdict(row.verdict),
        reasons=tuple(Reason(code=r["code"], message=r["message"]) for r in row.reasons),
        policy_version=row.policy_version,
        decided_at=row.decided_at,
        attempt=CallAttempt(
            caller=row.caller_raw,
            callee=row.callee_raw,
            tenant=row.tenant,
            purpose=row.purpose,
            presentation=Presentation(row.presentation),
            direction=Direction(row.direction),
            campaign=row.campaign,
            call_id=row.call_id,
        ),
        caller=row.caller_e164,
        callee=row.callee_e164,
        consent_ref=row.consent_ref,
        record=row.record,
        retention_class=row.retention_class,
        retain_until=row.retain_until,
        latency_ms=row.latency_ms,
        next_allowed_at=_next_allowed_at(row.reasons),
        notice=row.notice is not None,
        notice_played=_NOTICE_PLAYED.get(row.notice),
        notice_prompt=row.notice_prompt,
    )


_NOTICE_PLAYED = {NOTICE_PLAYED: True, NOTICE_MISSING: False}
"""``decisions.notice`` → :attr:`Decision.notice_played` (``required``, NULL: None)."""


def _recent_allowed() -> Select[datetime]:
    callee, tenant = bindparam("callee", type_=E164), bindparam("tenant", type_=String(64))
    last_reset = (
        select(func.max(frequency_resets.c.at))
        .where((frequency_resets.c.callee == callee) & (frequency_resets.c.tenant == tenant))
        .scalar_subquery()
    )
    return (
        select(t.c.decided_at)
        .where(
            (t.c.callee_e164 == callee)
            & (t.c.tenant == tenant)
            & (t.c.verdict == Verdict.ALLOW.value)
            & (t.c.decided_at >= bindparam("since"))
            & (last_reset.is_(None) | (t.c.decided_at > last_reset))
            & t.c.restricted.is_(False)
        )
        .order_by(t.c.decided_at.desc())
    )


BY_IDEMPOTENCY_KEY = select(t).where(
    (t.c.tenant == bindparam("tenant", type_=String(64)))
    & (t.c.idempotency_key == bindparam("key", type_=String(128)))
)
"""``tenant``, ``key``: the decision recorded under an idempotency key (the write transaction
reads it under its lock, :mod:`dialguard.storage.settle`)."""

RECENT_ALLOWED = _recent_allowed()
"""``callee``, ``tenant``, ``since``: when the tenant was allowed to call the callee, newest first,
at or after ``since`` and after the latest frequency reset (the call path runs this too, see
:mod:`dialguard.storage.facts`)."""


class DecisionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(
        self, decisions: Sequence[Decision], idempotency_keys: Sequence[str | None] = ()
    ) -> list[dict[str, Any]]:
        """Insert decisions in one statement (the group commit of :class:`DecisionLog`), and
        their counts in the hourly roll-up; returns the rows inserted, which their audit entries
        vouch for. ``idempotency_keys``: one per decision, or none at all."""
        keys = list(idempotency_keys) or [None] * len(decisions)
        rows = [decision_row(d, key) for d, key in zip(decisions, keys, strict=True)]
        if rows:
            await self._conn.execute(t.insert(), rows)
            await decision_hours.add(self._conn, rows)
        return rows

    async def lock(self, ids: Sequence[int]) -> None:
        """Take PostgreSQL transaction-level advisory locks ``ids``, in the order given (sorted
        by the caller: :func:`~dialguard.storage.settle.lock_ids`), released at COMMIT or
        ROLLBACK. Nothing on SQLite, where a writing transaction holds the write lock."""
        if self._conn.dialect.name != "postgresql":
            return
        for lock in ids:
            await self._conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock})

    async def by_idempotency_key(self, tenant: str, key: str) -> Decision | None:
        """The decision recorded under ``key`` for ``tenant``, restricted or not (a retry must
        get the first decision back, never a second one)."""
        params = {"tenant": tenant, "key": key}
        row = (await self._conn.execute(BY_IDEMPOTENCY_KEY, params)).first()
        return None if row is None else _decision(row)

    async def get(self, decision_id: str) -> Decision | None:
        """None also for a restricted decision: only a legal export may read it."""
        query = select(t).where((t.c.decision_id == decision_id) & t.c.restricted.is_(False))
        row = (await self._conn.execute(query)).first()
        return None if row is None else _decision(row)

    async def list(
        self,
        callee: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        *,
        until: datetime | None = None,
        tenant: str | None = None,
        verdict: Verdict | None = None,
        reason: str | None = None,
        caller: str | None = None,
    ) -> tuple[Decision, ...]:
        """The latest decisions, newest first; restricted rows are not listed. Each filter
        given narrows them: callee, caller (E.164), tenant, verdict, a reason code among the
        decision's reasons, decided at or after ``since`` and before ``until``."""
        query = (
            select(t)
            .where(t.c.restricted.is_(False))
            .order_by(t.c.decided_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        if callee is not None:
            query = query.where(t.c.callee_e164 == require_e164(callee))
        if caller is not None:
            query = query.where(t.c.caller_e164 == require_e164(caller))
        if since is not None:
            query = query.where(t.c.decided_at >= since)
        if until is not None:
            query = query.where(t.c.decided_at < until)
        if tenant is not None:
            query = query.where(t.c.tenant == tenant)
        if verdict is not None:
            query = query.where(t.c.verdict == Verdict(verdict).value)
        if reason is not None:
            quoted = (
                '"' + reason.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
            )
            query = query.where(cast(t.c.reasons, Text).like(f"%{quoted}%", escape="\\"))
        return tuple(_decision(row) for row in await self._conn.execute(query))

    async def ids_starting(self, prefix: str, limit: int = 10) -> tuple[str, ...]:
        """Decision ids beginning with ``prefix`` (at most ``limit``, in order), restricted
        ones left out: what a shortened id typed by a person may mean."""
        escaped = _like_escaped(prefix)
        query = (
            select(t.c.decision_id)
            .where(t.c.decision_id.like(f"{escaped}%", escape="\\") & t.c.restricted.is_(False))
            .order_by(t.c.decision_id)
            .limit(limit)
        )
        return tuple((await self._conn.execute(query)).scalars())

    async def recent_allowed(
        self, callee: str, tenant: str, since: datetime
    ) -> tuple[datetime, ...]:
        """When ``tenant`` was last allowed to call ``callee``, newest first: attempts at or after
        ``since`` and after the latest frequency reset (one query, served by an index)."""
        require_e164(callee)
        params = {"callee": callee, "tenant": tenant, "since": since}
        return tuple((await self._conn.execute(RECENT_ALLOWED, params)).scalars())

    async def last_reset(self, callee: str, tenant: str) -> datetime | None:
        """When ``callee``'s counters for ``tenant`` were last reset; None: never."""
        require_e164(callee)
        latest = select(func.max(frequency_resets.c.at)).where(
            (frequency_resets.c.callee == callee) & (frequency_resets.c.tenant == tenant)
        )
        found: datetime | None = (await self._conn.execute(latest)).scalar()
        return found

    async def reset_frequency(
        self, callee: str, tenant: str, at: datetime, by: str, reason: str
    ) -> FrequencyReset:
        """Make attempts up to ``at`` no longer count towards ``tenant``'s frequency limits for
        ``callee``; the attempts themselves stay in the log."""
        require_e164(callee)
        reset = FrequencyReset(callee=callee, tenant=tenant, at=at, by=by, reason=reason)
        await self._conn.execute(
            frequency_resets.insert().values(
                callee=callee, tenant=tenant, at=at, by=by, reason=reason
            )
        )
        return reset

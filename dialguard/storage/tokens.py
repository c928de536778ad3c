"""SQL for ``api_tokens``; the rules are in :mod:`dialguard.tokens.tokens` (secrets, hashing) and
:mod:`dialguard.ops.tokens` (the audited changes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .token_records import Role, Token, token_from_row
from .token_tables import api_tokens as t


class TokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self, token_id: str, name: str, role: Role, token_hash: str, by: str, at: datetime
    ) -> Token:
        row = (
            await self._conn.execute(
                t.insert()
                .values(
                    id=token_id,
                    name=name,
                    role=Role(role).value,
                    token_hash=token_hash,
                    created_at=at,
                    created_by=by,
                )
                .returning(*t.c)
            )
        ).one()
        return token_from_row(row)

    async def get(self, token_id: str) -> Token | None:
        row = (await self._conn.execute(select(t).where(t.c.id == token_id))).first()
        return None if row is None else token_from_row(row)

    async def with_hash(self, token_id: str) -> tuple[Token, str] | None:
        """The token and its stored hash (which :class:`Token` deliberately does not carry)."""
        row = (await self._conn.execute(select(t).where(t.c.id == token_id))).first()
        return None if row is None else (token_from_row(row), row.token_hash)

    async def list(self) -> tuple[Token, ...]:
        rows = await self._conn.execute(select(t).order_by(t.c.created_at, t.c.id))
        return tuple(token_from_row(row) for row in rows)

    async def revoke(self, token_id: str, by: str, at: datetime) -> int:
        result = await self._conn.execute(
            update(t)
            .where((t.c.id == token_id) & t.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by)
        )
        return result.rowcount

    async def touch(self, token_id: str, at: datetime) -> None:
        await self._conn.execute(update(t).where(t.c.id == token_id).values(last_used_at=at))

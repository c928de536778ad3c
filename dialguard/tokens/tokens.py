"""API tokens: created with a role, stored hashed, shown once, revocable (creating and revoking
them are audited operations, :mod:`dialguard.ops.tokens`).

A secret reads ``dgt_<id>_<43 base64url characters>``: the id finds the row, the random part (32
bytes) is checked against its stored SHA-256 with a constant-time compare. A plain SHA-256 (not a
slow password hash) is enough because the secret has 256 bits of entropy: there is nothing to
guess. ``last_used_at`` is refreshed at most once a minute, so authentication is a read on almost
every request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..storage.store import Store
from ..storage.token_records import Role, Token, UnknownToken

__all__ = [
    "NewSecret",
    "Role",
    "Token",
    "UnknownToken",
    "authenticate",
    "list_tokens",
    "new_secret",
    "parse_secret",
]

PREFIX = "dgt_"
_SECRET = re.compile(r"dgt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
LAST_USED_GRANULARITY = timedelta(minutes=1)


def _encode(random_part: bytes) -> str:
    return base64.urlsafe_b64encode(random_part).decode().rstrip("=")


def _digest(random_part: bytes) -> str:
    return hashlib.sha256(random_part).hexdigest()


@dataclass(frozen=True)
class NewSecret:
    """A fresh token's id, its secret (to show once) and the digest stored in its place."""

    token_id: str
    secret: str
    digest: str


def new_secret() -> NewSecret:
    token_id = secrets.token_hex(8)
    random_part = secrets.token_bytes(32)
    return NewSecret(token_id, f"{PREFIX}{token_id}_{_encode(random_part)}", _digest(random_part))


async def list_tokens(store: Store) -> tuple[Token, ...]:
    async with store.transaction(readonly=True) as tx:
        return await tx.tokens.list()


def parse_secret(secret: str) -> tuple[str, bytes] | None:
    """``(token_id, random part)`` of a well-formed secret, else None."""
    match = _SECRET.fullmatch(secret.strip())
    if match is None:
        return None
    try:
        random_part = base64.urlsafe_b64decode(match.group(2) + "=")
    except (binascii.Error, ValueError):
        return None
    if len(random_part) != 32 or _encode(random_part) != match.group(2):
        return None  # one token, one spelling: no variants through base64's padding bits
    return match.group(1), random_part


async def authenticate(store: Store, secret: str, *, now: datetime) -> Token | None:
    """The live token ``secret`` belongs to, or None (malformed, unknown, wrong or revoked)."""
    parsed = parse_secret(secret)
    if parsed is None:
        return None
    token_id, random_part = parsed
    async with store.transaction(readonly=True) as tx:
        found = await tx.tokens.with_hash(token_id)
    if found is None:
        return None
    token, stored = found
    if not hmac.compare_digest(stored.encode(), _digest(random_part).encode()) or token.revoked:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        async with store.transaction() as tx:
            await tx.tokens.touch(token_id, now)
    return token

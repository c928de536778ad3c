"""``api_tokens``, on the shared :data:`dialguard.storage.columns.metadata` (migration 0003).

Only the SHA-256 of a token's random part is stored; the secret is shown once at creation.
Rows are never deleted: a revoked token stays as the record of who could act, and when.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from .columns import UTCDateTime, metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("revoked_by", Text),
    Column("last_used_at", UTCDateTime()),
)

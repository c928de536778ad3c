"""The column types, shared columns and the one ``metadata`` every table of :mod:`dialguard.storage`
is defined on. Every timestamp column is :class:`UTCDateTime`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.types import TypeDecorator

from .row_digests import SALT, new_salt

E164 = String(16)
TENANT_NAME_MAX = 64
Id = BigInteger().with_variant(Integer(), "sqlite")
"""SQLite only auto-increments an ``INTEGER PRIMARY KEY``."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text in one fixed format, so text
    comparison in SQL is time comparison. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def restriction_columns() -> tuple[Column[bool], Column[str], Column[datetime]]:
    """Marks for rows kept only because the law says so after their subject asked for erasure
    (PIPL Art 47, GDPR Art 18): no use except storage and legal claims, deleted after ``until``.
    Normal listings and the call path skip restricted rows."""
    return (
        Column("restricted", Boolean, nullable=False, server_default=false()),
        Column("restricted_basis", Text),
        Column("restricted_until", UTCDateTime()),
    )


def salt_column() -> Column[str]:
    """The random salt of a row's evidence digest (:mod:`dialguard.storage.row_digests`), made on
    insert. Nullable only because rows written by older code may lack it."""
    return Column(SALT, String(32), default=new_salt)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

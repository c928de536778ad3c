"""Schema migrations, run from code: no ``alembic.ini`` on disk, scripts inside the package.

``init_database`` is what ``dialguard init`` calls; running it
on a database already at head changes nothing. On PostgreSQL an advisory lock serialises nodes
that start together, so two of them never run the same migration at once.

Alembic (and Mako under it) takes longer to import than the rest of a command: it is imported only
where a migration runs. Opening a store checks the schema revision with one query and the
revision names written in the scripts (:func:`~dialguard.storage.revision.head_revision`),
without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, column, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..config import Settings
from .connection import create_engine, unreachable
from .errors import StorageError
from .revision import MIGRATIONS, require_head

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATION_LOCK = 0x6469616C_6D696772  # "dialmigr"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing into the package; ``connection`` is handed to ``env.py``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


RECORDED_REVISION: Select[Any] = select(column("version_num")).select_from(table("alembic_version"))
"""The revision ``alembic_version`` records, as Alembic reads it."""


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _recorded(connection: Connection) -> str | None:
    """The revision in ``alembic_version`` (None for a database without one), as Alembic reads it
    but without importing it."""
    if not connection.dialect.has_table(connection, "alembic_version"):
        return None
    revision = connection.execute(RECORDED_REVISION).scalar()
    return None if revision is None else str(revision)


def _upgrade(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
    revision = _current(connection)
    assert revision is not None
    return revision


async def init_database(settings: Settings) -> str:
    """Create the schema or upgrade it to head; return the revision the database is now at."""
    engine = create_engine(settings.database)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(_upgrade)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(unreachable("migrate", settings, exc)) from exc
    finally:
        await engine.dispose()


async def check_revision(engine: AsyncEngine) -> None:
    """Refuse to serve from a database whose schema is not the one this code was written for."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_recorded)
    require_head(current)

"""Schema migrations, run from code: no ``alembic.ini`` on disk, scripts inside the package.

``init_database`` is what ``dialguard init`` calls; running it
on a database already at head changes nothing. On PostgreSQL an advisory lock serialises nodes
that start together, so two of them never run the same migration at once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..config import Settings
from ._common import describe
from .engine import create_engine
from .errors import SchemaOutOfDate, StorageError

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x6469616C_6D696772  # "dialmigr"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing into the package; ``connection`` is handed to ``env.py``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
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
        raise StorageError(f"cannot migrate the database: {describe(exc)}") from exc
    finally:
        await engine.dispose()


async def check_revision(engine: AsyncEngine) -> None:
    """Refuse to serve from a database whose schema is not the one this code was written for."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    expected = head_revision()
    if current != expected:
        raise SchemaOutOfDate(
            f"database schema is at revision {current or 'none (empty database)'}, "
            f"this dialguard needs {expected}: run `dialguard init`"
        )

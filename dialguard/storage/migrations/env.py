"""Alembic environment. Migrations run only through :func:`dialguard.storage.init_database`,
which hands in an open connection (there is no ``alembic.ini``); to write a new revision, call
``alembic.command.revision(alembic_config(connection), autogenerate=True)`` the same way."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from dialguard.storage.schema import SCHEMA

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through dialguard.storage.init_database")
context.configure(
    connection=connection,
    target_metadata=SCHEMA,
    # SQLite can only ALTER by copying the table; batch mode does that for later revisions.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""Throwaway PostgreSQL databases for tests, beside the one ``DIALGUARD_TEST_PG_URL`` names.

A module of its own (not ``conftest``): test modules import it by name, and ``tests/e2e`` has a
``conftest`` of its own that would shadow the root one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

PG_URL_ENV = "DIALGUARD_TEST_PG_URL"
REQUIRE_PG_ENV = "DIALGUARD_REQUIRE_PG"


@asynccontextmanager
async def fresh_pg_database(base_url: str) -> AsyncIterator[str]:
    """A new, empty database next to the one ``base_url`` names; dropped on exit."""
    url = make_url(base_url)
    query = dict(url.query)  # asyncpg reads libpq's name for the TLS mode in a DSN
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    admin_dsn = url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
    name = f"dgtest_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            await _drop(admin, name)
    finally:
        await admin.close()


async def _drop(admin: asyncpg.Connection, name: str) -> None:
    """A plain DROP first: PostgreSQL itself stops an autovacuum worker that happens to be in the
    database, which ``FORCE`` may not do for a role that is not a superuser ("must be a member
    of the role whose process is being terminated"). ``FORCE`` is for sessions a test left open."""
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    except asyncpg.ObjectInUseError:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

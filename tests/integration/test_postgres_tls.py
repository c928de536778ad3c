"""PostgreSQL over TLS: ``ssl=verify-full`` with a CA file in ``database.url``, against a server
that refuses every connection without TLS (``devkit.postgres``, started for this module).

``./dev test`` runs the whole suite's PostgreSQL the same way; this module proves what the mode
buys: the traffic is encrypted, a server with a certificate from another CA or for another name
is refused, and a client that turns TLS off is refused by the server.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pg_databases import settings_for
from sqlalchemy import text
from sqlalchemy.engine import make_url

from devkit.postgres import TlsPostgres, start, stop
from devkit.tls import write_pki
from dialguard.config import Settings
from dialguard.storage import Store, init_database
from dialguard.storage.connection import create_engine
from dialguard.storage.errors import StorageError

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server() -> Iterator[TlsPostgres]:
    directory = Path(tempfile.mkdtemp(prefix="dialguard-pg-tls."))  # the server user reads it
    try:
        started = start(directory)
        try:
            yield started
        finally:
            stop(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def database(server: TlsPostgres) -> Settings:
    """The server's database, migrated (idempotent), reached with ``ssl=verify-full``."""
    settings = settings_for(server.url())
    await init_database(settings)
    return settings


def on(settings: Settings, url: str) -> Settings:
    """``settings`` reaching its database through ``url``'s host and TLS parameters."""
    database = make_url(settings.database.url).database
    target = make_url(url).set(database=database).render_as_string(hide_password=False)
    return replace(settings, database=replace(settings.database, url=target))


async def test_the_store_works_over_verified_tls(database: Settings) -> None:
    store = await Store.open(database)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
        async with store.transaction(readonly=True) as tx:
            assert [t.name for t in await tx.tenants.list()] == ["acme"]
    finally:
        await store.close()
    engine = create_engine(database.database)
    try:
        async with engine.connect() as conn:
            query = text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            encrypted, version = (await conn.execute(query)).one()
    finally:
        await engine.dispose()
    assert encrypted and version in {"TLSv1.2", "TLSv1.3"}


async def test_a_client_without_tls_is_refused_by_the_server(
    server: TlsPostgres, database: Settings
) -> None:
    with pytest.raises(StorageError, match="no encryption"):
        await Store.open(on(database, server.url(mode="disable")))


async def test_a_server_certificate_from_another_ca_is_refused(
    server: TlsPostgres, database: Settings, tmp_path: Path
) -> None:
    stranger = write_pki(tmp_path / "other-ca")
    with pytest.raises(StorageError, match="CERTIFICATE_VERIFY_FAILED"):
        await Store.open(on(database, server.url(ca_file=stranger.ca_file)))


async def test_verify_full_checks_the_name_and_verify_ca_does_not(
    server: TlsPostgres, database: Settings
) -> None:
    """The certificate names ``localhost``: reached as 127.0.0.1, only verify-ca accepts it."""
    with pytest.raises(StorageError, match="CERTIFICATE_VERIFY_FAILED"):
        await Store.open(on(database, server.url(host="127.0.0.1")))
    store = await Store.open(on(database, server.url(host="127.0.0.1", mode="verify-ca")))
    await store.close()

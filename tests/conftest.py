"""Shared fixtures.

Storage: ``store`` (and ``db_settings`` under it) is parametrised over SQLite and PostgreSQL, so
every storage test runs on both. PostgreSQL needs ``DIALGUARD_TEST_PG_URL`` (a role that may
create databases; each test gets a database of its own: a new one, dropped afterwards, or a
migrated one from a pool, reset afterwards). Without it the PostgreSQL cases are deselected,
unless ``DIALGUARD_REQUIRE_PG=1`` (as in CI), when they fail.
"""

from __future__ import annotations

import atexit
import gc
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web_app
from pg_databases import (
    PG_URL_ENV,
    REQUIRE_PG_ENV,
    MigratedCopies,
    fresh_pg_database,
    settings_for,
)

from dialguard.config import Settings
from dialguard.policy.model import CallAttempt, Decision, Reason, Verdict
from dialguard.storage import Store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _long_files_first(items)
    if os.environ.get(PG_URL_ENV) or os.environ.get(REQUIRE_PG_ENV) == "1":
        return
    skipped = [item for item in items if item.get_closest_marker("postgres")]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


def _long_files_first(items: list[pytest.Item]) -> None:
    """Files with a test marked ``long`` first, each file's tests in their order: under
    ``--dist loadfile`` (without xdist's reordering, ``--no-loadscope-reorder``) the workers
    start on them, and the short files fill in around them instead of one long file running
    alone at the end."""
    long_files = {item.path for item in items if item.get_closest_marker("long")}
    items.sort(key=lambda item: item.path not in long_files)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports and the collection made lives as long as the process: out of the garbage
    collector's sight (``gc.freeze``), each full collection walks what the tests made since, not
    every module, dependency and collected test again.

    A test builds stores, engines and applications that live as long as it runs: at Python's
    default thresholds young collections come so often that much of that is promoted while the
    test still holds it, and only full collections free it later. Collecting the young generation
    every 10,000 allocations instead of 700, and the older ones half as often, lets it die young.
    """
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


# The interpreter's shutdown collects garbage several times over all that is still alive, and
# nothing a test can see runs then: pytest's last collections, which report leaked resources,
# came before (``pytest_unconfigure``).
atexit.register(gc.freeze)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """aiohttp keeps each handler it wrapped in middleware, keyed by the applications, in one
    process-wide cache of 1,024 entries. A ``serve`` process has one application; a test process
    builds hundreds, and the cache kept each one alive after its test closed it, with its store,
    engine and compiled statements: most of what every full garbage collection walked."""
    web_app._cached_build_middleware.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _keys_outside_etc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``dialguard init`` creates the subject-hash, audit signing and recording keys where the
    settings say (``/etc/dialguard`` by default), and ``serve`` then writes checkpoints: point
    every test, and every CLI subprocess (they inherit the environment), at a temporary directory
    instead."""
    keys = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIALGUARD_DSR_HASH_KEY_FILE", str(keys / "subject-hash.key"))
        patch.setenv("DIALGUARD_AUDIT_SIGNING_KEY_FILE", str(keys / "audit-signing.key"))
        patch.setenv("DIALGUARD_AUDIT_CHECKPOINT_FILE", str(keys / "audit-checkpoints.jsonl"))
        patch.setenv("DIALGUARD_RECORDING_KEYRING_FILE", str(keys / "recording-keys.json"))
        yield


BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@asynccontextmanager
async def empty_database(
    backend: str, directory: Path, *, copies: MigratedCopies | None = None
) -> AsyncIterator[Settings]:
    """Settings pointing at an empty database (no schema yet): a file in ``directory``, or a
    PostgreSQL database of its own, dropped on exit. ``copies``: the test's fixtures hand the
    database to ``copies.migrate`` before anything else reads it, so a PostgreSQL one is taken
    already migrated from the pool of ``copies`` (and reset for the next test on exit)."""
    if backend == "sqlite":
        yield settings_for(f"sqlite+aiosqlite:///{directory}/dialguard.db")
        return
    base_url = os.environ.get(PG_URL_ENV)
    if not base_url:
        pytest.fail(
            f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set: point it at a PostgreSQL role "
            "that may create databases, e.g. "
            "postgresql+asyncpg://dialguard:dialguard@127.0.0.1:5432/dialguard_test"
        )
    if copies is not None:
        async with copies.leased_pg_database() as url:
            yield settings_for(url)
        return
    async with fresh_pg_database(base_url) as url:
        yield settings_for(url)


def _copies(request: pytest.FixtureRequest) -> MigratedCopies | None:
    """``migrated_copies`` when the test's fixtures migrate its empty databases through it:
    they do so first thing, so a PostgreSQL database may come migrated already."""
    if "migrated_copies" in request.fixturenames:
        copies: MigratedCopies = request.getfixturevalue("migrated_copies")
        return copies
    return None


@pytest.fixture(params=BACKENDS)
async def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings pointing at an empty database of each backend (no schema yet)."""
    copies = _copies(request)
    async with empty_database(request.param, tmp_path / "db", copies=copies) as settings:
        yield settings


@pytest.fixture(params=BACKENDS)
async def db_settings_pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Settings, Settings]]:
    """Two empty databases of each backend, for comparing two runs of the same thing."""
    copies = _copies(request)
    async with (
        empty_database(request.param, tmp_path / "left-db", copies=copies) as left,
        empty_database(request.param, tmp_path / "right-db", copies=copies) as right,
    ):
        yield left, right


@pytest.fixture(scope="session")
def migrated_copies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedCopies]:
    """Brings an empty database to the head revision by copying a template migrated once."""
    copies = MigratedCopies(tmp_path_factory.mktemp("schema"), os.environ.get(PG_URL_ENV))
    yield copies
    copies.close()


@pytest.fixture
async def store(db_settings: Settings, migrated_copies: MigratedCopies) -> AsyncIterator[Store]:
    """An open store on a freshly migrated database, with tenants ``acme`` and ``globex``."""
    await migrated_copies.migrate(db_settings)
    opened = await Store.open(db_settings)
    try:
        async with opened.transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.tenants.ensure("globex")
        yield opened
    finally:
        await opened.close()


T0 = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
"""A fixed instant storage tests build their times on."""


@pytest.fixture
def make_decision() -> Callable[..., Decision]:
    """Build a Decision; keyword arguments override the defaults (attempt fields included)."""

    def build(**overrides: Any) -> Decision:
        attempt_fields = {
            key: overrides.pop(key)
            for key in ("tenant", "purpose", "campaign", "direction", "call_id")
            if key in overrides
        }
        attempt_fields.setdefault("tenant", "acme")
        attempt = CallAttempt(caller="02161234567", callee="13800138000", **attempt_fields)
        values: dict[str, Any] = {
            "decision_id": str(uuid.uuid4()),
            "verdict": Verdict.ALLOW,
            "reasons": (),
            "policy_version": "cn-2024.1",
            "decided_at": T0,
            "attempt": attempt,
            "caller": "+862161234567",
            "callee": "+8613800138000",
        }
        values.update(overrides)
        if values["verdict"] is Verdict.DENY and not values["reasons"]:
            values["reasons"] = (Reason("dnc.global", "callee is on the global DNC list"),)
        return Decision(**values)

    return build

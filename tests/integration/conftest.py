"""Fixtures the integration tests share (the storage fixtures are in ``tests/conftest.py``).

- ``dg``: the CLI, in-process (:mod:`in_process`), on a fresh SQLite database with tenant acme,
  in the environment ``dg_env`` gives; the database starts as a copy of the migrated template,
  so its ``init`` migrates nothing (``init`` from an empty database is the first-run tests'
  business: ``test_cli_config.py``, ``test_cli_environment.py``, ``test_install.py``);
- ``acme_store``: a fresh SQLite store seeded by :func:`builders.seed_acme`;
- ``api``, ``api_at_allowed_time``: the admin API on a real port (:mod:`api_harness`);
- ``health_gate``: the whole gate with its API, for ``GET /health`` and ``dialguard status``;
- ``optout_store``, ``optout_gate``: the gate with the subject key the keypad opt-out hashes
  callees with;
- ``sides``: the two doors of the ops contract (:mod:`ops_doors`);
- ``verification_in_process``: ``audit verify`` without its child process, for tests about what
  verification finds.

Builders (settings, records, CLI helpers) are in :mod:`builders`, not here: test modules import
those, and no test module imports another.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from api_harness import ApiHarness, running_api
from builders import WEDNESDAY_10, Run, api_gate_settings, gate_settings, seed_acme
from in_process import run_dialguard
from ops_doors import Side, open_sides
from pg_databases import MigratedCopies, settings_for

from dialguard.app import GateApp
from dialguard.audit import service as audit_service
from dialguard.audit.verify import OnProgress, Progress, VerifyReport
from dialguard.audit.verify_process import VerifyRequest, verify_request
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.storage.store import Store
from dialguard.storage.subject_key import SubjectKey


@pytest.fixture
def dg_env(tmp_path: Path) -> dict[str, str]:
    """The whole environment ``dg`` runs ``dialguard`` in: the test's, with a database and key
    files of this test's own, and a config file setting the default region CN. A module that
    needs more settings overrides this fixture."""
    (tmp_path / "dialguard.toml").write_text('[numbers]\ndefault_region = "CN"\n')
    env = {
        **os.environ,
        "DIALGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dg.db",
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_ACTOR": "test-admin",
        "DIALGUARD_RECORDING_KEYRING_FILE": str(tmp_path / "recording-keys.json"),
        "DIALGUARD_DSR_HASH_KEY_FILE": str(tmp_path / "subject-hash.key"),
        "DIALGUARD_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "DIALGUARD_AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl"),
    }
    env.pop("DIALGUARD_NOW", None)
    return env


@pytest.fixture
def dg(tmp_path: Path, dg_env: dict[str, str], migrated_copies: MigratedCopies) -> Run:
    """``dg(*args, expect=0, **env)`` runs ``dialguard ARGS`` in ``dg_env`` (``env`` added) on a
    database of this test's own, checks its exit status unless ``expect`` is None, and returns
    what it printed. ``init`` and ``tenants add acme`` have run."""

    def run(
        *args: str, expect: int | None = 0, input: str | None = None, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        result = run_dialguard(args, env={**dg_env, **extra_env}, input=input, cwd=tmp_path)
        if expect is not None:
            assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result

    asyncio.run(migrated_copies.migrate(settings_for(dg_env["DIALGUARD_DATABASE_URL"])))
    run("init")
    run("tenants", "add", "acme")
    return run


@asynccontextmanager
async def opened_store(settings: Settings, copies: MigratedCopies) -> AsyncIterator[Store]:
    """A store on a freshly migrated database, closed on exit."""
    await copies.migrate(settings)
    store = await Store.open(settings)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def acme_store(tmp_path: Path, migrated_copies: MigratedCopies) -> AsyncIterator[Store]:
    """An open store on :func:`builders.gate_settings`' database, seeded by ``seed_acme``."""
    async with opened_store(gate_settings(tmp_path), migrated_copies) as store:
        await seed_acme(store)
        yield store


def optout_settings(tmp_path: Path) -> Settings:
    return gate_settings(tmp_path, esl={"enabled": "false"})


@pytest.fixture
async def optout_store(tmp_path: Path, migrated_copies: MigratedCopies) -> AsyncIterator[Store]:
    """A store seeded by ``seed_acme`` with the subject key the keypad opt-out hashes callees
    with."""
    settings = optout_settings(tmp_path)
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    async with opened_store(settings, migrated_copies) as store:
        await seed_acme(store)
        yield store


@pytest.fixture
async def optout_gate(tmp_path: Path, optout_store: Store) -> AsyncIterator[GateApp]:
    """The gate (AGI only) on ``optout_store``, its clock frozen at ``WEDNESDAY_10``."""
    app = GateApp(optout_settings(tmp_path), Clock(WEDNESDAY_10))
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def health_gate(tmp_path: Path, migrated_copies: MigratedCopies) -> AsyncIterator[GateApp]:
    """The gate with its API on port 0 (AGI too, no ESL) on a fresh database."""
    settings = api_gate_settings(tmp_path)
    await migrated_copies.migrate(settings)
    app = GateApp(settings, Clock())
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def api(
    db_settings: Settings, migrated_copies: MigratedCopies, tmp_path: Path
) -> AsyncIterator[ApiHarness]:
    async with running_api(db_settings, migrated_copies, tmp_path) as harness:
        yield harness


@pytest.fixture
async def api_at_allowed_time(
    db_settings: Settings, migrated_copies: MigratedCopies, tmp_path: Path
) -> AsyncIterator[ApiHarness]:
    """:func:`api` with the gate's clock frozen at ``ALLOWED_AT`` (live decisions)."""
    async with running_api(db_settings, migrated_copies, tmp_path, frozen=True) as harness:
        yield harness


@pytest.fixture
async def sides(
    db_settings_pair: tuple[Settings, Settings], migrated_copies: MigratedCopies, tmp_path: Path
) -> AsyncIterator[tuple[Side, Side]]:
    """Two databases seeded alike (SQLite files, or two PostgreSQL databases)."""
    async with open_sides(db_settings_pair, migrated_copies, tmp_path) as pair:
        yield pair


@pytest.fixture(autouse=True)
def verification_in_process(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``audit_service.verify`` runs the child's :func:`verify_request` in the test process, on the
    request as the child reads it (through its JSON): what verification finds is the same, and
    each run spares the child interpreter's start-up. Tests marked ``verification_child`` keep
    the child: where the process matters (``test_audit_verify_load.py``) and behind the CLI
    (``test_cli_evidence.py``), the API (``test_api.py``) and the console (``test_console.py``)."""
    if request.node.get_closest_marker("verification_child") is not None:
        return

    async def in_process(
        request: VerifyRequest, on_progress: OnProgress | None = None
    ) -> VerifyReport:
        def heard(step: Progress) -> None:
            if on_progress is not None:
                on_progress(step)

        return await verify_request(VerifyRequest.from_json(request.to_json()), heard)

    monkeypatch.setattr(audit_service, "run_verification", in_process)

"""Files holding personal data are created 0600 (the national DNC files 0640) whatever the umask,
and ``serve`` names an existing one that is wider."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from builders import WEDNESDAY_10, gate_settings

from dialguard.app import GateApp
from dialguard.audit.checkpoint import Checkpoint, append_checkpoint
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.dnc.index import NANP, DncIndex, build_index
from dialguard.dnc.index.journal import journal_path
from dialguard.ops.recording_testing import make_rig, write_wav
from dialguard.policy.model import Decision
from dialguard.recording.integrity import export
from dialguard.settings.database import DatabaseSettings
from dialguard.storage import Store, init_database
from dialguard.storage.decision_log import DecisionLog

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
def db_settings(tmp_path: Path) -> Settings:
    """SQLite only: file modes are about the files of an SQLite store."""
    return replace(
        Settings(), database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/dg.db")
    )


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away: the modes must come from dialguard itself."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_database_wal_and_shm_are_private(
    db_settings: Settings, tmp_path: Path, make_decision: Callable[..., Decision], open_umask: None
) -> None:
    await init_database(db_settings)
    store = await Store.open(db_settings)
    log = DecisionLog(store)
    log.start()
    try:
        await log.append(make_decision())
        database = tmp_path / "dg.db"
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        await log.stop()
        await store.close()


async def test_vault_files_exports_and_checkpoints_are_private(
    store: Store, tmp_path: Path, make_decision: Callable[..., Decision], open_umask: None
) -> None:
    uid = "1717383600.42"
    async with store.transaction() as tx:
        await tx.decisions.add_many([make_decision(record=True, call_id=uid)])
    rig = make_rig(store, tmp_path, NOW)
    write_wav(rig.spool / f"dg-{uid}.wav", 0.5)
    recording = (await rig.ingestor.ingest(rig.spool / f"dg-{uid}.wav")).recording
    assert mode(rig.vault.path(recording.region, recording.vault_path)) == 0o600
    out = tmp_path / "exports" / "call.wav"
    export(rig.vault, recording, out, protected=(rig.spool,))
    assert mode(out) == 0o600
    checkpoints = tmp_path / "audit" / "checkpoints.jsonl"
    append_checkpoint(checkpoints, Checkpoint(1, "00" * 32, NOW, "k", "sig"))
    assert mode(checkpoints) == 0o600


def test_national_dnc_files_are_readable_by_the_group_only(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "us.dnc"
    build_index(np.array([2_015_550_123]), path, NANP)
    index = DncIndex.open(str(path))
    index.close()
    assert (mode(path), mode(journal_path(path))) == (0o640, 0o640)


async def test_serve_names_an_existing_file_that_is_too_widely_readable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = gate_settings(tmp_path)
    await init_database(settings)
    database = tmp_path / "dg.db"
    os.chmod(database, 0o644)
    os.close(os.open(settings.audit.checkpoint_file, os.O_CREAT | os.O_WRONLY, 0o600))
    app = GateApp(settings, Clock(WEDNESDAY_10))
    with caplog.at_level(logging.WARNING, logger="dialguard"):
        await app.start()
        await app.stop()
    named = {
        getattr(r, "fields", {}).get("path"): getattr(r, "fields", {}).get("mode")
        for r in caplog.records
        if "readable by more than its owner" in r.getMessage()
    }
    assert named == {str(database): "644"}

"""Crash safety of ingest: SIGKILL the ingesting process right after each step, then re-run.

After every crash the recording exists as the spool file, a complete vault entry, or both —
never neither — and the re-run ends with exactly one row, one verified vault file, no spool file
and no temp files.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialguard.config import Settings
from dialguard.ops.recording_testing import make_rig, write_wav
from dialguard.policy.model import Decision
from dialguard.recording.ingest import CHECKPOINTS
from dialguard.recording.integrity import verify
from dialguard.storage import Store

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)
UID = "1717383600.42"

CHILD = """
import asyncio, os, signal, sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from dialguard.config import DatabaseSettings, Settings
from dialguard.ops.recording_testing import make_rig
from dialguard.storage import Store

url, base, step, name, now = sys.argv[1:6]

def checkpoint(reached):
    if reached == step:
        os.kill(os.getpid(), signal.SIGKILL)

async def main():
    store = await Store.open(replace(Settings(), database=DatabaseSettings(url=url)))
    try:
        rig = make_rig(store, Path(base), datetime.fromisoformat(now), checkpoint, chunk_size=512)
        print((await rig.ingestor.ingest(rig.spool / name)).outcome)
    finally:
        await store.close()

asyncio.run(main())
"""


async def run_child(settings: Settings, base: Path, step: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        settings.database.url,
        str(base),
        step,
        f"dg-{UID}.wav",
        NOW.isoformat(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await process.communicate()
    assert process.returncode in (0, -signal.SIGKILL), err.decode()
    return process.returncode


@pytest.mark.parametrize("step", CHECKPOINTS)
async def test_sigkill_after_each_step_loses_and_duplicates_nothing(
    step: str,
    store: Store,
    db_settings: Settings,
    tmp_path: Path,
    make_decision: Callable[..., Decision],
) -> None:
    async with store.transaction() as tx:
        await tx.decisions.add_many([make_decision(record=True, call_id=UID)])
    rig = make_rig(store, tmp_path, NOW)
    spool_file = rig.spool / f"dg-{UID}.wav"
    original = hashlib.sha256(write_wav(spool_file, 2)).hexdigest()

    assert await run_child(db_settings, tmp_path, step) == -signal.SIGKILL
    async with rig.store.transaction(readonly=True) as tx:
        rows = await tx.recordings.list()
    vault_files = [p for p in rig.vault.roots["cn"].rglob("*.dgr") if p.is_file()]
    if rows:
        assert verify(rig.vault, rows[0]).ok  # committed ⇒ the vault entry is complete
    else:
        assert spool_file.exists()  # not committed ⇒ the spool file is untouched
        assert hashlib.sha256(spool_file.read_bytes()).hexdigest() == original
    assert len(rows) <= 1 and len(vault_files) <= 1
    temps = list(rig.vault.roots["cn"].rglob(".*.tmp"))
    state = (bool(rows), bool(temps), bool(vault_files), spool_file.exists())
    assert (
        state
        == {
            "sealed": (False, True, False, True),
            "renamed": (False, False, True, True),
            "committed": (True, False, True, True),
            "removed": (True, False, True, False),
        }[step]
    )

    assert await run_child(db_settings, tmp_path, "none") == 0
    async with rig.store.transaction(readonly=True) as tx:
        rows = await tx.recordings.list(include_deleted=True)
    assert len(rows) == 1 and rows[0].sha256 == original
    assert verify(rig.vault, rows[0]).ok
    assert not spool_file.exists()
    leftovers = sorted(p.name for p in rig.vault.roots["cn"].rglob("*") if p.is_file())
    assert leftovers == [f"dg-{UID}.dgr"]

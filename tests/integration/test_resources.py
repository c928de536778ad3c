"""Whoever opens a resource closes it: after ``stop()``/``close()`` the process holds no file
descriptor on the database (Python 3.13 reports an unclosed ``sqlite3`` connection, and the
suite turns that warning into an error; on any Python a leaked descriptor pins the file)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

import pytest
from builders import WEDNESDAY_10, gate_settings
from pg_databases import MigratedCopies

from dialguard.agi.testing import FakeAsterisk, header_block, mset_assignments
from dialguard.app import GateApp, book_from
from dialguard.clock import Clock
from dialguard.config import ConfigError
from dialguard.gate.service import GateService
from dialguard.storage.decision_log import DecisionLog
from dialguard.storage.facts import fact_reader
from dialguard.storage.store import Store


def open_on(database: Path) -> list[str]:
    """The descriptors of this process on ``database`` or its ``-wal``/``-shm``."""
    names = {str(database), f"{database}-wal", f"{database}-shm"}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the directory's own descriptor, closed by the time it is read
            continue
        if target in names:
            found.append(target)
    return found


async def test_a_stopped_gate_holds_nothing_open_on_its_database(
    tmp_path: Path, migrated_copies: MigratedCopies
) -> None:
    settings = gate_settings(tmp_path)
    await migrated_copies.migrate(settings)
    database = tmp_path / "dg.db"
    app = GateApp(settings, Clock(WEDNESDAY_10))
    await app.start()
    try:
        assert app.agi is not None
        peer = await FakeAsterisk(app.agi.port).connect(header_block())
        verdict = mset_assignments((await peer._reader.readline()).decode().rstrip("\n"))
        assert verdict["DIALGUARD_VERDICT"] in {"ALLOW", "DENY"}
        await peer.send(b"200 result=0\n")
        await peer.close()
        assert open_on(database)
    finally:
        await app.stop()
    assert open_on(database) == []


async def test_the_fact_reader_and_an_unstarted_decision_log_close_what_they_open(
    tmp_path: Path, migrated_copies: MigratedCopies
) -> None:
    settings = gate_settings(tmp_path)
    await migrated_copies.migrate(settings)
    database = tmp_path / "dg.db"
    store = await Store.open(settings)
    try:
        DecisionLog(store)  # never started: must not have opened anything
        facts = fact_reader(store)
        GateService(facts, book_from(settings), Clock(WEDNESDAY_10), "CN")
        assert open_on(database)  # the fact reader's own connection
        facts.close()
    finally:
        await store.close()
    assert open_on(database) == []


async def test_a_gate_that_fails_to_start_closes_what_it_had_opened(
    tmp_path: Path, migrated_copies: MigratedCopies
) -> None:
    settings = gate_settings(tmp_path)
    await migrated_copies.migrate(settings)
    taken = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = taken.sockets[0].getsockname()[1]
    try:
        app = GateApp(replace(settings, agi=replace(settings.agi, port=port)), Clock(WEDNESDAY_10))
        with pytest.raises(ConfigError, match=r"agi\.port: cannot listen"):
            await app.start()
    finally:
        taken.close()
        await taken.wait_closed()
    assert open_on(tmp_path / "dg.db") == []

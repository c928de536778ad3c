"""``GET /health`` on the running gate: no token, JSON, 200 while the database answers and every
enabled listener serves, 503 (naming which part) when one does not."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_api_serve import settings_for

from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.storage.migrate import init_database


@pytest.fixture
async def gate(tmp_path: Path) -> AsyncIterator[GateApp]:
    settings = settings_for(tmp_path, api_enabled=True)
    await init_database(settings)
    app = GateApp(settings, Clock())
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def health(app: GateApp) -> tuple[int, Any]:
    assert app.api is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{app.api.port}/health") as response,
    ):
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def test_healthy_gate_answers_200_without_a_token(gate: GateApp) -> None:
    status, body = await health(gate)
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["ms"] >= 0
    assert body["listeners"] == {
        "agi": {"enabled": True, "up": True},
        "esl": {"enabled": False, "up": False},
        "api": {"enabled": True, "up": True},
    }
    assert body["version"]


async def test_an_unreachable_database_is_503_and_recovers(gate: GateApp, tmp_path: Path) -> None:
    assert gate.store is not None
    database = tmp_path / "dg.db"
    await gate.store.close()  # no pooled connection left: the next one opens the path again
    database.rename(tmp_path / "away.db")
    database.mkdir()  # a directory where the database was: it cannot be opened
    try:
        status, body = await health(gate)
        assert status == 503
        assert body["status"] == "unhealthy"
        assert body["database"] == {"ok": False}
        assert str(tmp_path) not in str(body)  # no path, URL or error text for anyone
    finally:
        shutil.rmtree(database)
        (tmp_path / "away.db").rename(database)
    status, body = await health(gate)
    assert (status, body["status"]) == (200, "ok")


async def test_a_listener_that_stopped_is_503(gate: GateApp) -> None:
    assert gate.agi is not None
    await gate.agi.stop()
    status, body = await health(gate)
    assert status == 503
    assert body["listeners"]["agi"] == {"enabled": True, "up": False}
    assert body["database"]["ok"] is True

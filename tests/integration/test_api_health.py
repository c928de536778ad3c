"""``GET /health`` on the running gate: no token, JSON, 200 while the database answers and every
enabled listener serves, 503 (naming which part) when one does not."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp

from dialguard.app import GateApp


async def health(app: GateApp) -> tuple[int, Any]:
    assert app.api is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{app.api.port}/health") as response,
    ):
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def test_healthy_gate_answers_200_without_a_token(health_gate: GateApp) -> None:
    status, body = await health(health_gate)
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


async def test_an_unreachable_database_is_503_and_recovers(
    health_gate: GateApp, tmp_path: Path
) -> None:
    assert health_gate.store is not None
    database = tmp_path / "dg.db"
    await health_gate.store.close()  # no pooled connection left: the next one opens the path again
    database.rename(tmp_path / "away.db")
    database.mkdir()  # a directory where the database was: it cannot be opened
    try:
        status, body = await health(health_gate)
        assert status == 503
        assert body["status"] == "unhealthy"
        assert body["database"] == {"ok": False}
        assert str(tmp_path) not in str(body)  # no path, URL or error text for anyone
    finally:
        shutil.rmtree(database)
        (tmp_path / "away.db").rename(database)
    status, body = await health(health_gate)
    assert (status, body["status"]) == (200, "ok")


async def test_a_listener_that_stopped_is_503(health_gate: GateApp) -> None:
    assert health_gate.agi is not None
    await health_gate.agi.stop()
    status, body = await health(health_gate)
    assert status == 503
    assert body["listeners"]["agi"] == {"enabled": True, "up": False}
    assert body["database"]["ok"] is True

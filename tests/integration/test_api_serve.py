"""``dialguard serve`` runs the admin API next to the gate when ``[api] enabled``."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.config import Settings, load_settings
from dialguard.ops.audited import Actor
from dialguard.ops.tenants import add_tenant
from dialguard.ops.tokens import create_token
from dialguard.storage.migrate import init_database
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role


def settings_for(tmp_path: Path, api_enabled: bool) -> Settings:
    SubjectKey.create(tmp_path / "subject.key")
    return load_settings(
        environ={},
        cli={
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/dg.db"},
            "agi": {"port": "0"},
            "api": {"enabled": str(api_enabled).lower(), "port": "0"},
            "esl": {"enabled": "false"},
            "recording": {"enabled": "false"},
            "audit": {
                "checkpoint_interval_s": "0",
                "signing_key_file": str(tmp_path / "audit-signing.key"),
                "checkpoint_file": str(tmp_path / "audit-checkpoints.jsonl"),
            },
            "dsr": {"hash_key_file": str(tmp_path / "subject.key")},
        },
    )


async def test_serve_starts_and_stops_the_api(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, api_enabled=True)
    await init_database(settings)
    app = GateApp(settings, Clock())
    await app.start()
    try:
        assert app.api is not None and app.store is not None
        by = Actor("test", Clock().now())
        await add_tenant(app.store, by, "acme", "general")
        _, secret = await create_token(app.store, by, Role.OPERATOR, "t")
        url = f"http://127.0.0.1:{app.api.port}"
        body = {"caller": "01058001234", "callee": "13800138000", "tenant": "acme"}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/v1/openapi.json") as response:
                assert response.status == 200
            headers = {"Authorization": f"Bearer {secret}"}
            async with session.post(f"{url}/v1/check", json=body, headers=headers) as response:
                assert response.status == 409  # the caller is not registered
                assert (await response.json())["reasons"]
    finally:
        await app.stop()


async def test_serve_without_the_api(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, api_enabled=False)
    await init_database(settings)
    app = GateApp(settings, Clock())
    await app.start()
    try:
        assert app.api is None
    finally:
        await app.stop()

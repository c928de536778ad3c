"""``GET /metrics``: Prometheus exposition of a running gate, scraped after real FastAGI calls,
under each ``api.metrics_access`` rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from builders import callback_number, gate_settings
from pg_databases import MigratedCopies
from prometheus_client.parser import text_string_to_metric_families

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.audit.checkpoint import SigningKey, append_checkpoint
from dialguard.clock import Clock
from dialguard.ops.audited import Actor
from dialguard.ops.tokens import create_token
from dialguard.policy.model import CallAttempt
from dialguard.storage.store import Store
from dialguard.tokens.tokens import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
CALLER = "+861088886666"


async def start_gate(tmp_path: Path, access: str, copies: MigratedCopies) -> GateApp:
    settings = gate_settings(
        tmp_path,
        api={"enabled": "true", "port": "0", "metrics_access": access},
        audit={"checkpoint_interval_s": "0"},
    )
    await copies.migrate(settings)
    store = await Store.open(settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.numbers.add(callback_number(CALLER))
            await tx.consents.add(
                "+8613800138000",
                "acme",
                "callback",
                evidence_ref="t-1",
                channel="web",
                given_at=NOW,
            )
    finally:
        await store.close()
    app = GateApp(settings, Clock(NOW))
    await app.start()
    return app


@pytest.fixture
async def gate(tmp_path: Path, migrated_copies: MigratedCopies) -> AsyncIterator[GateApp]:
    app = await start_gate(tmp_path, "loopback", migrated_copies)
    yield app
    await app.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(app: GateApp, headers: dict[str, str] | None = None) -> tuple[int, str]:
    assert app.api is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{app.api.port}/metrics", headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_scrape_counts_real_decisions(gate: GateApp, tmp_path: Path) -> None:
    assert gate.agi is not None
    asterisk = FakeAsterisk(gate.agi.port)
    allowed = await asterisk.call(header_block(callerid="01088886666"))
    denied = await asterisk.call(header_block(callerid="01099990000"))
    assert allowed.variables["DIALGUARD_VERDICT"] == "ALLOW"
    assert denied.variables["DIALGUARD_REASON"] == "callerid.unregistered"
    key = SigningKey.create(tmp_path / "other-signing.key")
    append_checkpoint(
        tmp_path / "audit-checkpoints.jsonl", key.sign(1, b"\0" * 32, NOW - timedelta(minutes=2))
    )

    status, text = await scrape(gate)

    assert status == 200
    got = samples(text)
    assert got[("dialguard_decisions_total", (("verdict", "allow"),))] == 1
    assert got[("dialguard_decisions_total", (("verdict", "deny"),))] == 1
    reason = (("reason", "callerid.unregistered"), ("verdict", "deny"))
    assert got[("dialguard_decision_reasons_total", reason)] == 1
    assert got[("dialguard_decision_latency_seconds_count", ())] == 2
    assert got[("dialguard_decision_commit_size_sum", ())] == 2
    assert got[("dialguard_decision_commit_seconds_count", ())] >= 1
    assert got[("dialguard_connections", (("transport", "agi"),))] == 0
    assert got[("dialguard_connections", (("transport", "esl"),))] == 0
    assert got[("dialguard_audit_checkpoint_age_seconds", ())] == 120
    assert "+86" not in text and "1388" not in text


async def test_gate_failures_are_counted(gate: GateApp) -> None:
    assert gate.gate is not None
    call = CallAttempt(caller="01088886666", callee="13800138000", tenant="acme", call_id="c-1")
    await gate.gate.record_failure(call, "d-timeout", "gate.timeout")

    _, text = await scrape(gate)

    got = samples(text)
    assert got[("dialguard_gate_failures_total", (("reason", "gate.timeout"),))] == 1
    assert got[("dialguard_decisions_total", (("verdict", "deny"),))] == 1


async def test_token_rule_needs_a_scraper_role(
    tmp_path: Path, migrated_copies: MigratedCopies
) -> None:
    app = await start_gate(tmp_path, "token", migrated_copies)
    try:
        assert app.store is not None
        actor = Actor("test", NOW)
        _, auditor = await create_token(app.store, actor, Role.AUDITOR, "prom")
        _, dsr = await create_token(app.store, actor, Role.DSR, "dsr")
        assert (await scrape(app))[0] == 401
        assert (await scrape(app, {"Authorization": f"Bearer {dsr}"}))[0] == 403
        status, text = await scrape(app, {"Authorization": f"Bearer {auditor}"})
        assert status == 200 and "dialguard_decisions" in text
        async with app.store.transaction(readonly=True) as tx:
            entries = await tx.audit.tail(100)
        assert not [e for e in entries if "/metrics" in str(e)]  # scrapes are not audited
    finally:
        await app.stop()


async def test_off_rule_hides_the_route(tmp_path: Path, migrated_copies: MigratedCopies) -> None:
    app = await start_gate(tmp_path, "off", migrated_copies)
    try:
        assert (await scrape(app))[0] == 404
    finally:
        await app.stop()


async def test_unknown_rule_stops_the_start(
    tmp_path: Path, migrated_copies: MigratedCopies
) -> None:
    with pytest.raises(ValueError, match=r"api\.metrics_access"):
        await start_gate(tmp_path, "everyone", migrated_copies)

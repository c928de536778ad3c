"""Frequency caps hold on every door and deployment: twenty simultaneous calls to one consented
callee through FastAGI (``agi.workers`` 1 and 2), through the FreeSWITCH outbound socket, and
through two gate processes on one PostgreSQL each get exactly one ALLOW, and exactly one allowed
row is stored (China: 1 call per 10 minutes)."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from builders import WEDNESDAY_10, gate_settings
from in_process import run_dialguard
from pg_databases import PG_URL_ENV, fresh_pg_database

from devkit.gate import Gate
from devkit.net import free_port
from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.esl.testing import ChannelData, FakeFreeSwitch
from dialguard.gate import variables
from dialguard.storage.store import Store

pytestmark = pytest.mark.long

BURST = 20
NOW = WEDNESDAY_10.isoformat()
ESL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "esl"


def seeded_gate(workdir: Path, *, workers: int = 1, database_url: str | None = None) -> Gate:
    """A gate whose ``serve`` is a process (or ``workers`` processes); its seeding and reading
    commands run in the test's process."""
    gate = Gate(
        workdir,
        free_port(),
        now=NOW,
        agi_workers=workers,
        database_url=database_url,
        run_command=run_dialguard,
    )
    gate.init()
    return gate


def seed(gate: Gate) -> None:
    gate.add_number("+861088886666", tenant="acme", purpose="callback")
    gate.add_consent("+8613800138000", tenant="acme", purpose="callback", evidence="ticket-42")


async def burst(ports: list[int], calls: int = BURST) -> Counter[str]:
    """``calls`` FastAGI requests for one callee at once, spread over ``ports``."""
    peers = [FakeAsterisk(port) for port in ports]
    blocks = [header_block(uniqueid=f"1764036000.{n}") for n in range(calls)]
    records = await asyncio.gather(
        *(peers[n % len(peers)].call(block) for n, block in enumerate(blocks))
    )
    return Counter(record.variables[variables.VERDICT] for record in records)


def wait_for_workers(gate: Gate, workers: int, seconds: float) -> None:
    """Every process of ``agi.workers`` has said "gate ready" (each binds the port itself)."""
    deadline = time.monotonic() + seconds
    while gate.serve_log.read_text(encoding="utf-8").count('"gate ready"') < workers:
        assert time.monotonic() < deadline, f"workers not ready:\n{gate.log_tail()}"
        time.sleep(0.1)


def allowed_rows(gate: Gate) -> Counter[str]:
    return Counter(row["verdict"] for row in gate.decisions("+8613800138000"))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_fastagi_burst_allows_exactly_one(tmp_path: Path, workers: int) -> None:
    gate = seeded_gate(tmp_path / "gate", workers=workers)
    seed(gate)
    with gate:
        wait_for_workers(gate, workers, 20)
        verdicts = asyncio.run(burst([gate.port]))
    assert verdicts == {"ALLOW": 1, "DENY": BURST - 1}
    assert allowed_rows(gate) == {"allow": 1, "deny": BURST - 1}
    assert "OK" in gate.cli("audit", "verify")


@pytest.mark.postgres
async def test_two_gate_processes_on_one_postgresql_allow_exactly_one(tmp_path: Path) -> None:
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.fail(f"{PG_URL_ENV} is not set")
    async with fresh_pg_database(base) as url:
        left = await asyncio.to_thread(seeded_gate, tmp_path / "left", database_url=url)
        right = await asyncio.to_thread(seeded_gate, tmp_path / "right", database_url=url)
        await asyncio.to_thread(seed, left)
        with left, right:
            verdicts = await burst([left.port, right.port])
        assert verdicts == {"ALLOW": 1, "DENY": BURST - 1}
        assert await asyncio.to_thread(allowed_rows, left) == {"allow": 1, "deny": BURST - 1}
        assert "OK" in await asyncio.to_thread(left.cli, "audit", "verify")


async def test_an_esl_burst_allows_exactly_one(tmp_path: Path, acme_store: Store) -> None:
    settings = gate_settings(tmp_path)
    app = GateApp(settings, Clock(WEDNESDAY_10))
    await app.start()
    try:
        assert app.esl is not None
        base = ChannelData.load(ESL_FIXTURES / "uuid-dump.esl")
        peer = FakeFreeSwitch(app.esl.port, base)
        channels = [
            base.with_(
                caller="01088886666",
                callee="13800138000",
                tenant="acme",
                purpose="callback",
                uniqueid=f"6f9c1f8e-0000-4000-8000-{n:012d}",
            )
            for n in range(BURST)
        ]
        records = await asyncio.gather(*(peer.call(channel) for channel in channels))
        await app.esl.wait_idle()
    finally:
        await app.stop()
    verdicts = Counter(record.variables["dialguard_verdict"] for record in records)
    assert verdicts == {"ALLOW": 1, "DENY": BURST - 1}
    async with acme_store.transaction(readonly=True) as tx:
        rows = await tx.decisions.list(callee="+8613800138000", limit=100)
    assert Counter(d.verdict.value for d in rows) == {"allow": 1, "deny": BURST - 1}

"""``agi.workers``: several ``serve`` processes answer FastAGI on one port. Every call gets its
verdict and its decision row, the audit log stays one verifiable chain although several
processes append to it, and the workers end with ``serve`` — stopped or killed outright."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from in_process import run_dialguard

from devkit.gate import Gate
from devkit.net import free_port
from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.gate import variables

pytestmark = pytest.mark.long

CALLS = 80
WORKERS = 3


def _log_lines(gate: Gate, event: str) -> list[dict[str, object]]:
    lines = gate.serve_log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [record for record in records if record.get("event") == event]


def _answering(port: int) -> bool:
    async def probe() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    return asyncio.run(probe())


def _wait_until_refused(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _answering(port):
            return True
        time.sleep(0.1)
    return False


def _wait_for_workers(gate: Gate, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(_log_lines(gate, "gate ready")) < WORKERS:
        assert time.monotonic() < deadline, f"workers not ready:\n{gate.log_tail()}"
        time.sleep(0.1)


def _calls(port: int) -> list[str]:
    async def all_calls() -> list[str]:
        asterisk = FakeAsterisk(port)
        blocks = [header_block(uniqueid=f"1754470000.{n}") for n in range(CALLS)]
        records = await asyncio.gather(*(asterisk.call(block) for block in blocks))
        return [record.variables[variables.VERDICT] for record in records]

    return asyncio.run(all_calls())


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    gate = Gate(tmp_path / "gate", free_port(), agi_workers=WORKERS, run_command=run_dialguard)
    gate.init()
    return gate


def test_workers_share_the_port_and_the_audit_chain(gate: Gate) -> None:
    with gate:
        _wait_for_workers(gate, 20)
        verdicts = _calls(gate.port)
        assert len(verdicts) == CALLS and set(verdicts) <= {"ALLOW", "DENY"}
    ready = Counter(record["worker"] for record in _log_lines(gate, "gate ready"))
    assert ready == Counter(range(WORKERS))
    served = Counter(record["worker"] for record in _log_lines(gate, "verdict sent"))
    assert sum(served.values()) == CALLS
    assert len(served) >= 2, f"the kernel sent every call to one process: {served}"
    decisions = json.loads(gate.cli("decisions", "list", "--json", "--limit", "1000"))
    assert sorted(row["call_id"] for row in decisions) == sorted(
        f"1754470000.{n}" for n in range(CALLS)
    )
    assert "OK" in gate.cli("audit", "verify")
    assert not _answering(gate.port)  # stopping serve stopped its workers


def test_workers_stop_when_serve_is_killed(gate: Gate) -> None:
    gate.start()
    try:
        _wait_for_workers(gate, 20)
        assert _answering(gate.port)
        os.kill(gate.pid, signal.SIGKILL)
        assert _wait_until_refused(gate.port, 10), "workers outlived a killed serve"
    finally:
        gate.stop(check=False)

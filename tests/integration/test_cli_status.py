"""``dialguard status`` asks the running gate's ``GET /health``: exit 0 healthy, 1 unhealthy,
3 not running; through the CLI, against a real gate."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

from builders import DIALGUARD_PROCESS, closed_port, dialguard, environment
from in_process import run_dialguard

from dialguard.app import GateApp


async def status(port: int, *args: str) -> tuple[int, str, str]:
    """``dialguard status`` in-process, in a thread: the gate runs on this test's loop."""
    env = {**environment(Path("/nonexistent")), "DIALGUARD_CONFIG": "/dev/null"}
    result = await asyncio.to_thread(
        run_dialguard, ["status", "--set", f"api.port={port}", *args], env=env
    )
    return result.returncode, result.stdout, result.stderr


async def test_status_of_a_healthy_then_unhealthy_gate(health_gate: GateApp) -> None:
    assert health_gate.api is not None and health_gate.agi is not None
    code, out, err = await status(health_gate.api.port)
    assert code == 0, err
    assert out.startswith("healthy  dialguard ")
    assert "database ok" in out and "agi up" in out and "esl off" in out
    code, out, _ = await status(health_gate.api.port, "--json")
    assert code == 0
    assert json.loads(out)["listeners"]["agi"] == {"enabled": True, "up": True}
    await health_gate.agi.stop()
    code, out, _ = await status(health_gate.api.port)
    assert code == 1
    assert out.startswith("UNHEALTHY") and "agi DOWN" in out


async def test_status_when_nothing_runs() -> None:
    port = closed_port()
    code, out, err = await status(port)
    assert code == 3
    assert out == ""
    assert f"not running: nothing answers at http://127.0.0.1:{port}/health" in err


def test_serve_then_status_then_stop(tmp_path: Path) -> None:
    """The operator's path: `dialguard serve` (here with --set after the subcommand), `dialguard
    status` while it runs, and after it stopped."""
    assert dialguard(tmp_path, "init").returncode == 0
    port = closed_port()
    assert port != 0
    settings = ["--set", f"api.port={port}", "--set", "agi.port=0"]
    serve = subprocess.Popen(
        [*DIALGUARD_PROCESS, "serve", *settings],
        env=environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            result = dialguard(tmp_path, "status", *settings)
            if result.returncode == 0 or time.monotonic() > deadline or serve.poll() is not None:
                break
            time.sleep(0.5)
        assert result.returncode == 0, result.stderr
        assert "healthy" in result.stdout
    finally:
        serve.send_signal(signal.SIGTERM)
        _, log = serve.communicate(timeout=60)
    assert serve.returncode == 0, log
    result = dialguard(tmp_path, "status", *settings)
    assert result.returncode == 3
    assert "not running" in result.stderr

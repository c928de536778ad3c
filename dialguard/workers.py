"""``agi.workers``: the extra processes that answer FastAGI on the ``serve`` process's port.

A busy gate spends most of a call running Python, and a process runs Python on one core at a
time: one process tops out near a core (``bench/gate_alone.py``). The kernel spreads connections
over every process listening on a port with SO_REUSEPORT, so ``serve`` starts ``workers - 1``
copies of itself in FastAGI-only mode (``serve --agi-worker``, with the same config file,
``--set`` values and environment). Each decides and stores its own calls: on SQLite their group
commits take turns on the write lock and the audit log stays one chain. ESL, the API, recording
and audit checkpoints stay in ``serve``. A worker that dies is started again after a second; one
left behind by a ``serve`` that was killed outright stops at once (its stdin closes).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("dialguard.agi")

RESTART_DELAY_S = 1.0
STOP_TIMEOUT_S = 10.0


def worker_argv(config: Path | None, assignments: Sequence[str]) -> list[str]:
    """The command line of a worker but its number: this interpreter, the same settings."""
    argv = [sys.executable, "-m", "dialguard"]
    if config is not None:
        argv += ["--config", str(config)]
    argv += [f"--set={assignment}" for assignment in assignments]
    return [*argv, "serve", "--agi-worker"]


class AgiWorkers:
    """Workers 1 to ``count`` (``serve`` itself is worker 0)."""

    def __init__(self, argv: Sequence[str], count: int) -> None:
        self._argv = list(argv)
        self._count = count
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._keepers: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._keepers = [
            asyncio.create_task(self._keep(n), name=f"dialguard-agi-worker-{n}")
            for n in range(1, self._count + 1)
        ]

    async def _keep(self, n: int) -> None:
        while not self._stopping:
            # The worker's stdin is a pipe this process holds open: see exit_with_parent.
            proc = await asyncio.create_subprocess_exec(
                *self._argv, str(n), stdin=asyncio.subprocess.PIPE
            )
            self._procs[n] = proc
            code = await proc.wait()
            if self._stopping:
                return
            log.error(
                "FastAGI worker exited, starting it again",
                extra={"fields": {"worker": n, "pid": proc.pid, "exit_code": code}},
            )
            await asyncio.sleep(RESTART_DELAY_S)

    async def stop(self) -> None:
        """SIGTERM every worker (each lets its calls in flight end as a stopping ``serve``
        does), then wait; a worker still running after ``STOP_TIMEOUT_S`` is killed."""
        self._stopping = True
        for proc in self._procs.values():
            if proc.returncode is None:
                proc.terminate()
        _, late = await asyncio.wait(self._keepers, timeout=STOP_TIMEOUT_S)
        for proc in self._procs.values():
            if proc.returncode is None:
                proc.kill()
        for keeper in late:
            keeper.cancel()
        await asyncio.gather(*self._keepers, return_exceptions=True)


async def exit_with_parent(stopping: asyncio.Event) -> None:
    """Set ``stopping`` once ``serve`` is gone: it holds the write end of this worker's stdin,
    so the end of that file is its exit, however it ended."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()
    stopping.set()

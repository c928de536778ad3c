"""The socket side the FastAGI and ESL servers share: listen, run one tracked task per
connection, cancel them all on ``stop()``, and count problems, logging the first of each kind.

The PBX connects once per call, so every connection is a call in flight: ``stop()`` cancelling
them makes each channel see a closed socket, which its dialplan turns into a refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

BACKLOG = 1024
"""A burst of calls is a burst of connects; asyncio's default backlog (100) drops SYNs, and a
dropped SYN costs the call a one-second retry."""


class Listener:
    def __init__(
        self, name: str, host: str, port: int, logger: logging.Logger, *, shared: bool = False
    ) -> None:
        self._name = name
        self._host = host
        self._port = port
        self._shared = shared
        """Bind with SO_REUSEPORT: other processes listen on the same port."""
        self._log = logger
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopping = False
        self.alerts: Counter[str] = Counter()
        """Problems by kind; the first of each kind is logged as an error, the rest at debug."""

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError(f"{self._name} is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def serving(self) -> bool:
        """Whether it accepts connections now (``GET /health``)."""
        return self._server is not None and self._server.is_serving() and not self.stopping

    @property
    def active(self) -> int:
        """Connections (calls) in flight now."""
        return len(self._tasks)

    async def start(self, handler: Handler, limit: int | None = None) -> None:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None  # a stream callback always runs in a task
            self._tasks.add(task)
            self._idle.clear()
            try:
                await handler(reader, writer)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                self._tasks.discard(task)
                if not self._tasks:
                    self._idle.set()

        extra = {} if limit is None else {"limit": limit}
        self.stopping = False
        self._server = await asyncio.start_server(
            tracked, self._host, self._port, backlog=BACKLOG, reuse_port=self._shared, **extra
        )
        self._log.info(
            f"{self._name} listening", extra={"fields": {"host": self._host, "port": self.port}}
        )

    async def stop(self) -> None:
        """Stop accepting, cancel the calls in flight and wait for them to unwind."""
        self.stopping = True
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def wait_idle(self) -> None:
        """Return once no call is in progress (tests, and draining before a restart)."""
        await self._idle.wait()

    def alert(self, kind: str, message: str, **fields: Any) -> None:
        self.alerts[kind] += 1
        level = logging.ERROR if self.alerts[kind] == 1 else logging.DEBUG
        self._log.log(level, message, extra={"fields": {"kind": kind, **fields}})

"""A thin asyncio server for FreeSWITCH's outbound ``socket`` application: one task per call.

FreeSWITCH connects once per call (``socket 127.0.0.1:8084 async full``); each connection is an
:class:`~dialguard.esl.session.EslCall`. ``stop()`` stops accepting and cancels the calls in
flight: a parked channel then falls back to the ``hangup`` after ``socket`` in the dialplan (or
its ``park_timeout``), an already transferred call continues without us. Problems are alerted
once per kind and counted in :attr:`EslServer.alerts`; nothing one connection does reaches
another or the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from typing import Any

from ..agi.gate import DecisionGate, DecisionMaker
from ..config import ConfigError
from .commands import PATH
from .recording import NullRecordingSink, RecordingSink
from .session import EslCall
from .settings import EslSettings

log = logging.getLogger("dialguard.esl")

CONTEXT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
BACKLOG = 1024
"""A burst of calls is a burst of connects; asyncio's default backlog (100) would drop SYNs."""


def check_settings(settings: EslSettings) -> None:
    """Raise :class:`ConfigError` naming the first ``esl.*`` key that cannot be used."""
    for key in (
        "budget_ms",
        "command_timeout_ms",
        "linger_timeout_ms",
        "max_header_bytes",
        "max_headers",
        "max_body_bytes",
    ):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"esl.{key}: must be positive")
    if not 0 <= settings.port <= 65535:
        raise ConfigError(f"esl.port: {settings.port} is not a TCP port")
    if not PATH.fullmatch(settings.recordings_dir):
        raise ConfigError(
            f"esl.recordings_dir: {settings.recordings_dir!r} must be a path of [A-Za-z0-9._-] "
            "segments or start with one $${global}"
        )
    if not CONTEXT_NAME.fullmatch(settings.allowed_context):
        raise ConfigError(
            f"esl.allowed_context: {settings.allowed_context!r} is not [A-Za-z0-9_.-]"
        )


class EslServer:
    def __init__(
        self,
        settings: EslSettings,
        maker: DecisionMaker,
        recordings: RecordingSink | None = None,
    ) -> None:
        check_settings(settings)
        self._settings = settings
        self._gate = DecisionGate(maker, settings.budget_ms)
        self._sink: RecordingSink = recordings or NullRecordingSink()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self.alerts: Counter[str] = Counter()
        """Problems by kind; the first of each kind is logged as an error."""

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("EslServer is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self._settings.host, self._settings.port, backlog=BACKLOG
        )
        log.info(
            "ESL outbound socket listening",
            extra={"fields": {"host": self._settings.host, "port": self.port}},
        )

    async def stop(self) -> None:
        """Stop accepting, cancel the calls in flight and wait for them to unwind."""
        self._stopping = True
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

    def _alert(self, kind: str, message: str, **fields: Any) -> None:
        self.alerts[kind] += 1
        level = logging.ERROR if self.alerts[kind] == 1 else logging.DEBUG
        log.log(level, message, extra={"fields": {"kind": kind, **fields}})

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a stream callback always runs in a task
        self._tasks.add(task)
        self._idle.clear()
        try:
            call = EslCall(reader, writer, self._settings, self._gate, self._sink, self._alert)
            await call.run()
        except asyncio.CancelledError:
            # Ours (stop()): end quietly, asyncio's stream callback would log a cancelled task.
            if not self._stopping:
                raise
        except Exception as exc:  # one broken call must not take the listener down
            self._alert("call.crash", "ESL call failed", error=repr(exc)[:300])
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

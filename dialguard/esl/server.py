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
import logging
import re

from ..agi.gate import DecisionGate, DecisionMaker
from ..config import ConfigError
from ..listener import Listener
from .commands import PATH
from .recording import NullRecordingSink, RecordingSink
from .session import EslCall
from .settings import EslSettings

log = logging.getLogger("dialguard.esl")

CONTEXT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


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
    for key in ("allowed_context", "allowed_inbound_context"):
        if not CONTEXT_NAME.fullmatch(getattr(settings, key)):
            raise ConfigError(f"esl.{key}: {getattr(settings, key)!r} is not [A-Za-z0-9_.-]")


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
        self._listener = Listener("ESL outbound socket", settings.host, settings.port, log)
        self._alert = self._listener.alert
        self.alerts = self._listener.alerts
        """Problems by kind; the first of each kind is logged as an error."""

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        return self._listener.port

    async def start(self) -> None:
        await self._listener.start(self._connection)

    async def stop(self) -> None:
        """Stop accepting, cancel the calls in flight and wait for them to unwind."""
        await self._listener.stop()

    async def wait_idle(self) -> None:
        """Return once no call is in progress (tests, and draining before a restart)."""
        await self._listener.wait_idle()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            call = EslCall(reader, writer, self._settings, self._gate, self._sink, self._alert)
            await call.run()
        except asyncio.CancelledError:
            # Ours (stop()): end quietly, asyncio's stream callback would log a cancelled task.
            if not self._listener.stopping:
                raise
        except Exception as exc:  # one broken call must not take the listener down
            self._alert("call.crash", "ESL call failed", error=repr(exc)[:300])

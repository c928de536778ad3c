"""A thin asyncio server for FreeSWITCH's outbound ``socket`` application: one task per call.

FreeSWITCH connects once per call (``socket 127.0.0.1:8084 async full``); each connection is an
:class:`~dialguard.esl.session.EslCall`. ``stop()`` stops accepting and cancels the calls in
flight: a parked channel then falls back to the ``hangup`` after ``socket`` in the dialplan (or
its ``park_timeout``), an already transferred call continues without us. Problems are alerted
once per kind and counted in :attr:`EslServer.alerts`; nothing one connection does reaches
another or the server.

Every connection is bounded: each command reply (``command_timeout_ms``), the decision
(``budget_ms``), the end of a denied call and the tail of an allowed one (``linger_timeout_ms``),
and the close itself. One peer address holds at most ``max_connections_per_peer`` sockets;
more are closed at once, logged once per burst (a burst ends when the peer is down to half).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from pathlib import PurePosixPath

from ..gate.budget import DecisionGate, DecisionMaker
from ..gate.listener import Listener
from ..settings.checks import check_esl
from ..settings.errors import ConfigError
from ..settings.esl import EslSettings
from .commands import OPTOUT_KEY, PATH, SOUND
from .recording import RecordingSink
from .session import EslCall, OptOut, Timing

log = logging.getLogger("dialguard.esl")

CONTEXT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def check_settings(settings: EslSettings) -> None:
    """Raise :class:`ConfigError` naming the first ``esl.*`` key that cannot be used: the
    ranges (:func:`~dialguard.settings.checks.check_esl`), then what FreeSWITCH's grammar
    requires of contexts, paths, keys and sounds."""
    check_esl(settings)
    if not PATH.fullmatch(settings.recordings_dir):
        raise ConfigError(
            f"esl.recordings_dir: {settings.recordings_dir!r} must be a path of [A-Za-z0-9._-] "
            "segments or start with one $${global}"
        )
    for key in ("allowed_context", "allowed_inbound_context"):
        if not CONTEXT_NAME.fullmatch(getattr(settings, key)):
            raise ConfigError(f"esl.{key}: {getattr(settings, key)!r} is not [A-Za-z0-9_.-]")
    if not OPTOUT_KEY.fullmatch(settings.optout_key):
        raise ConfigError(f"esl.optout_key: {settings.optout_key!r} is not one of 0-9, * or #")
    for key in ("optout_confirm", "notice_sound"):
        if not SOUND.fullmatch(getattr(settings, key)):
            raise ConfigError(
                f"esl.{key}: {getattr(settings, key)[:80]!r} is neither a tone_stream:// "
                "tone nor a path of [A-Za-z0-9._-] segments"
            )


class EslServer:
    def __init__(
        self,
        settings: EslSettings,
        maker: DecisionMaker,
        recordings: RecordingSink | None = None,
        optout: OptOut | None = None,
        timing: Timing | None = None,
    ) -> None:
        check_settings(settings)
        self._settings = settings
        self._gate = DecisionGate(maker, settings.budget_ms)
        self._sink = recordings
        """None: recordings stay where FreeSWITCH wrote them."""
        self._optout = optout
        """None: the keypad opt-out is off (``esl.optout_key`` ignored)."""
        self._timing = timing
        """Told how far into each conversation its steps were reached (metrics); None: not."""
        self._listener = Listener("ESL outbound socket", settings.host, settings.port, log)
        self._alert = self._listener.alert
        self.alerts = self._listener.alerts
        """Problems by kind; the first of each kind is logged as an error."""
        self._open: Counter[str] = Counter()
        """Sockets open per peer address."""
        self._refused: dict[str, int] = {}
        """Peers in a burst of refused connections: how many so far."""

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        return self._listener.port

    @property
    def serving(self) -> bool:
        return self._listener.serving

    @property
    def calls_in_flight(self) -> int:
        """Calls in flight on this listener (metrics)."""
        return self._listener.active

    async def start(self) -> None:
        if (
            self._sink is not None
            and not PurePosixPath(self._settings.recordings_dir).is_absolute()
        ):
            log.warning(
                "esl.recordings_dir is not an absolute path: FreeSWITCH recordings cannot be "
                "checked and stay where FreeSWITCH wrote them, not in the vault",
                extra={"fields": {"recordings_dir": self._settings.recordings_dir}},
            )
        await self._listener.start(self._connection)

    @property
    def connections(self) -> dict[str, int]:
        """Sockets open per peer address."""
        return dict(self._open)

    async def stop(self) -> None:
        """Stop accepting, cancel the calls in flight and wait for them to unwind."""
        await self._listener.stop()

    async def wait_idle(self) -> None:
        """Return once no call is in progress (tests, and draining before a restart)."""
        await self._listener.wait_idle()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer_of(writer)
        if self._open[peer] >= self._settings.max_connections_per_peer:
            self._refuse(peer)
            return  # the listener closes the socket
        self._open[peer] += 1
        try:
            call = EslCall(
                reader,
                writer,
                self._settings,
                self._gate,
                self._sink,
                self._alert,
                self._optout,
                self._timing,
            )
            await call.run()
        except asyncio.CancelledError:
            # Ours (stop()): end quietly, asyncio's stream callback would log a cancelled task.
            if not self._listener.stopping:
                raise
        except Exception as exc:  # one broken call must not take the listener down
            self._alert("call.crash", "ESL call failed", error=repr(exc)[:300])
        finally:
            self._release(peer)
            await self._close(writer)

    def _refuse(self, peer: str) -> None:
        self.alerts["connection.peer-limit"] += 1
        refused = self._refused.get(peer, 0)
        if not refused:
            log.warning(
                "peer holds esl.max_connections_per_peer sockets: refusing more",
                extra={"fields": {"peer": peer, "limit": self._settings.max_connections_per_peer}},
            )
        self._refused[peer] = refused + 1

    def _release(self, peer: str) -> None:
        self._open[peer] -= 1
        if self._open[peer] <= 0:
            del self._open[peer]
        if (
            peer in self._refused
            and self._open[peer] <= self._settings.max_connections_per_peer // 2
        ):
            log.info(
                "peer back under esl.max_connections_per_peer",
                extra={"fields": {"peer": peer, "refused": self._refused.pop(peer)}},
            )

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        """Close, waiting at most ``command_timeout_ms`` for the peer to take what is still
        buffered: a peer that stops reading must not keep the socket either."""
        writer.close()
        try:
            async with asyncio.timeout(self._settings.command_timeout_ms / 1000):
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        except TimeoutError:
            writer.transport.abort()


def _peer_of(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"

"""A thin asyncio FastAGI server: read the header block, route, send one verdict, read its reply.

Per connection, at most two round trips and every wait bounded: the header block by
``header_timeout_ms`` and ``max_header_bytes``, the decision by the route's budget, the verdict's
reply by ``header_timeout_ms`` again. A peer that closes mid-headers ends only its own connection
(``readuntil`` raises at EOF, it never spins). Anything that goes wrong is a DENY if the socket is
still open; protocol problems are alerted once per kind and counted in :attr:`AgiServer.alerts`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from ..gate.listener import Listener
from ..gate.verdict import GATE_BAD_REQUEST, GATE_ERROR, GATE_UNKNOWN_ROUTE
from ..logs import bind_call
from ..settings.agi import AgiSettings
from .mset import MSet
from .protocol import AgiProtocolError, AgiReply, AgiRequest, HeaderError, HeaderParser, ReplyParser
from .routes import AgiAnswer, RouteHandler

log = logging.getLogger("dialguard.agi")

_MIN_LINE_LIMIT = 8192  # Asterisk's AGI_BUF_LEN: no reply line is longer


class BlockTooLong(HeaderError):
    """The read limit was reached before the block's empty line: the rest is still unread."""


class AgiServer:
    def __init__(self, settings: AgiSettings, routes: Mapping[str, RouteHandler]) -> None:
        self._settings = settings
        self._routes = dict(routes)
        self._io_timeout = settings.header_timeout_ms / 1000
        shared = settings.workers > 1
        self._listener = Listener("FastAGI", settings.host, settings.port, log, shared=shared)
        self._alert = self._listener.alert
        self.alerts = self._listener.alerts
        """Protocol problems by kind; the first of each kind is logged as an error."""

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
        limit = max(self._settings.max_header_bytes, _MIN_LINE_LIMIT)
        await self._listener.start(self._serve, limit=limit)

    async def stop(self) -> None:
        """Stop accepting, cancel calls in flight (their channels see a closed socket: DENY)."""
        await self._listener.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = HeaderParser(self._settings.max_header_bytes)
        try:
            async with asyncio.timeout(self._io_timeout):
                request = await self._read_request(reader, parser)
        except HeaderError as exc:
            self._alert(f"header.{exc.kind}", "bad AGI header block, call denied", error=str(exc))
            in_step = parser.finished
            if isinstance(exc, BlockTooLong):  # the read stopped short of the block's end
                in_step = await self._skip_rest_of_block(reader)
            deny = MSet.deny(GATE_BAD_REQUEST)
            await self._send(reader, writer, deny, "", expect_reply=in_step)
            return
        except TimeoutError:
            self._alert("header.timeout", "AGI header block not finished in time, call denied")
            deny = MSet.deny(GATE_BAD_REQUEST)
            await self._send(reader, writer, deny, "", expect_reply=False)
            return
        except (asyncio.IncompleteReadError, ConnectionError):
            log.debug("peer closed during the header block")
            return
        bind_call(request.uniqueid)
        answer = await self._route(request)
        await self._send(reader, writer, answer, request.route, expect_reply=True)

    async def _read_request(self, reader: asyncio.StreamReader, parser: HeaderParser) -> AgiRequest:
        try:
            block = await reader.readuntil(b"\n\n")
        except asyncio.LimitOverrunError:
            raise BlockTooLong("too-large", "header block exceeds the read limit") from None
        return parser.feed_block(block)

    async def _skip_rest_of_block(self, reader: asyncio.StreamReader) -> bool:
        """After a block too long to read whole, read on up to its empty line so that the next
        line we read is the reply to our verdict. False when that is not possible: no reply
        will be awaited."""
        budget = self._settings.max_header_bytes
        try:
            async with asyncio.timeout(self._io_timeout):
                while budget > 0:
                    line = await reader.readuntil(b"\n")
                    if line == b"\n":
                        return True
                    budget -= len(line)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            return False  # out of step with the peer: the verdict is still sent, no reply awaited
        return False

    async def _route(self, request: AgiRequest) -> AgiAnswer:
        handler = self._routes.get(request.route)
        if handler is None:
            self._alert("route.unknown", "unknown AGI route, call denied", route=request.route[:80])
            return MSet.deny(GATE_UNKNOWN_ROUTE)
        try:
            return await handler(request)
        except Exception as exc:  # a route must not leave the call without a verdict
            self._alert("route.error", "AGI route failed, call denied", error=repr(exc)[:300])
            return MSet.deny(GATE_ERROR)

    async def _send(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        answer: AgiAnswer,
        route: str,
        *,
        expect_reply: bool,
    ) -> None:
        started = time.monotonic()
        fields: dict[str, Any] = {
            "route": route,
            "verdict": answer.verdict.value,
            "reason": answer.reason,
            "decision_id": answer.decision_id,
        }
        try:
            async with asyncio.timeout(self._io_timeout):
                writer.write(answer.command().encode("ascii") + b"\n")
                await writer.drain()
                if not expect_reply:
                    log.info("verdict sent, no reply awaited", extra={"fields": fields})
                    return
                reply = await self._read_reply(reader)
        except (AgiProtocolError, asyncio.LimitOverrunError) as exc:
            kind = exc.kind if isinstance(exc, AgiProtocolError) else "too-large"
            self._alert(f"reply.{kind}", "bad reply to the verdict", error=str(exc), **fields)
            return
        except TimeoutError:
            self._alert("reply.timeout", "no reply to the verdict", **fields)
            return
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            log.debug(
                "peer gone before the verdict was acknowledged: %r", exc, extra={"fields": fields}
            )
            return
        fields.update(reply=reply.code, hangup=reply.hangup)
        fields["reply_ms"] = round((time.monotonic() - started) * 1000, 1)
        if reply.code == 200:
            log.info("verdict sent", extra={"fields": fields})
        elif reply.code == 511:
            log.debug("verdict for a dead channel", extra={"fields": fields})
        else:
            self._alert(f"reply.{reply.code}", "Asterisk refused the verdict command", **fields)

    async def _read_reply(self, reader: asyncio.StreamReader) -> AgiReply:
        parser = ReplyParser()
        while True:
            reply = parser.feed_line(await reader.readuntil(b"\n"))
            if reply is not None:
                return reply

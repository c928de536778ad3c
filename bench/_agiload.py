"""An open-loop FastAGI load generator, and the bare FastAGI server it is compared with.

Open loop: call *i* starts at ``t0 + i / rate`` (or at Poisson arrival times) whatever happened
to the calls before it, so a server that falls behind shows as queueing (growing latency,
then errors) instead of silently slowing the generator down. Each call is what Asterisk's
``res_agi`` does for ``AGI(agi://…/outbound,<callee>,<tenant>,callback)``: connect, send the
header block, read the command (the verdict), answer ``200 result=0``, wait for the close.
Latency is connect → verdict line received, measured here in the client.

The bare server (``python bench/_agiload.py bare PORT``) reads the header block and answers
with one ``SET VARIABLE``: the floor any FastAGI server in Python on asyncio can reach here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
CALL_TIMEOUT_S = 5.0
_VERDICT = re.compile(rb"DIALGUARD_VERDICT[= ]\"?(ALLOW|DENY)")
_REASON = re.compile(rb"DIALGUARD_REASON=([A-Za-z0-9._:-]*)")


def header_block(route: str, callee: str, tenant: str, caller: str, uniqueid: str) -> bytes:
    """The block Asterisk 22 sends (same keys and order as ``dialguard.agi.testing``)."""
    lines = (
        ("agi_network", "yes"),
        ("agi_network_script", route),
        ("agi_request", f"agi://127.0.0.1/{route}"),
        ("agi_channel", f"PJSIP/sipp-{uniqueid.replace('.', '')}"),
        ("agi_language", "en"),
        ("agi_type", "PJSIP"),
        ("agi_uniqueid", uniqueid),
        ("agi_version", "22.10.1"),
        ("agi_callerid", caller),
        ("agi_calleridname", "Agent"),
        ("agi_callingpres", "0"),
        ("agi_callingani2", "0"),
        ("agi_callington", "0"),
        ("agi_callingtns", "0"),
        ("agi_dnid", callee),
        ("agi_rdnis", "unknown"),
        ("agi_context", "dialguard-check"),
        ("agi_extension", "s"),
        ("agi_priority", "11"),
        ("agi_enhanced", "0.0"),
        ("agi_accountcode", tenant),
        ("agi_threadid", "140000000000000"),
        ("agi_arg_1", callee),
        ("agi_arg_2", tenant),
        ("agi_arg_3", "callback"),
    )
    return "".join(f"{k}: {v}\n" for k, v in lines).encode() + b"\n"


@dataclass
class StepResult:
    offered_rate: float
    calls: int
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    """Connect → verdict line, for every call that got a verdict."""
    start_lag_ms: list[float] = field(default_factory=list)
    """How late the generator started each call (its own overload shows here)."""
    outcomes: Counter[str] = field(default_factory=Counter)
    """``ALLOW``, ``DENY <reason>``, or ``error <kind>``."""

    @property
    def errors(self) -> int:
        return sum(n for key, n in self.outcomes.items() if key.startswith("error"))

    @property
    def answered_rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0


class _AgiCall(asyncio.Protocol):
    def __init__(self, block: bytes, started: float, done: asyncio.Future[tuple[float, str]]):
        self._block = block
        self._started = started
        self._done = done
        self._buffer = b""
        self._verdict_at = 0.0
        self._outcome = "error no verdict"
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._block)

    def data_received(self, data: bytes) -> None:
        if self._verdict_at:
            return
        self._buffer += data
        if b"\n" not in self._buffer:
            return
        self._verdict_at = time.perf_counter()
        line = self._buffer.split(b"\n", 1)[0]
        verdict = _VERDICT.search(line)
        reason = _REASON.search(line)
        if verdict is None:
            self._outcome = "error bad command"
        elif verdict[1] == b"ALLOW":
            self._outcome = "ALLOW"
        else:
            self._outcome = f"DENY {reason[1].decode() if reason else ''}".strip()
        assert self._transport is not None
        self._transport.write(b"200 result=0\n")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._done.done():
            return
        if self._verdict_at:
            self._done.set_result(((self._verdict_at - self._started) * 1000, self._outcome))
        else:
            self._done.set_result((-1.0, "error closed before verdict"))


async def _one_call(
    host: str, port: int, block: bytes, scheduled: float, result: StepResult
) -> None:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    result.start_lag_ms.append(max(0.0, loop.time() - scheduled) * 1000)
    done: asyncio.Future[tuple[float, str]] = loop.create_future()
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            transport, _ = await loop.create_connection(
                lambda: _AgiCall(block, started, done), host, port
            )
            latency, outcome = await done
    except TimeoutError:
        latency, outcome = -1.0, "error timeout"
    except OSError as exc:
        latency, outcome = -1.0, f"error {type(exc).__name__}"
    finally:
        if transport is not None:
            transport.close()
    result.outcomes[outcome] += 1
    if latency >= 0:
        result.latencies_ms.append(latency)


OneCall = Callable[[T, float, StepResult], Awaitable[None]]
"""Place one call for an item, scheduled at a loop time, recording into the step's result."""


async def offer(
    rate: float,
    items: Iterable[T],
    count: int,
    one_call: OneCall[T],
    *,
    poisson: bool = False,
    seed: int = 1,
) -> StepResult:
    """Start ``one_call`` for ``count`` items at ``rate`` per second (fixed interval, or Poisson
    arrivals), whatever happened to the calls before; return once every call has ended."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    result = StepResult(offered_rate=rate, calls=count)
    tasks: set[asyncio.Task[None]] = set()
    begin = loop.time() + 0.05
    at = begin
    iterator = iter(items)
    for _ in range(count):
        item = next(iterator)
        await asyncio.sleep(max(at - loop.time(), 0.0))  # yields even when behind schedule
        task = asyncio.create_task(one_call(item, at, result))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        at += rng.expovariate(rate) if poisson else 1 / rate
    if tasks:
        await asyncio.gather(*tasks)
    result.elapsed_s = loop.time() - begin
    return result


async def run_step(
    host: str,
    port: int,
    rate: float,
    blocks: Iterable[bytes],
    count: int,
    *,
    poisson: bool = False,
    seed: int = 1,
) -> StepResult:
    """Offer ``count`` FastAGI calls at ``rate`` per second."""

    async def one_call(block: bytes, scheduled: float, result: StepResult) -> None:
        await _one_call(host, port, block, scheduled, result)

    return await offer(rate, blocks, count, one_call, poisson=poisson, seed=seed)


# --- the bare server ---------------------------------------------------------------------


async def _bare_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while await reader.readuntil(b"\n") != b"\n":
            pass
        writer.write(b"SET VARIABLE DIALGUARD_VERDICT ALLOW\n")
        await writer.drain()
        await reader.readuntil(b"\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve_bare(port: int, handler: Handler = _bare_connection) -> None:
    server = await asyncio.start_server(handler, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main(handler: Handler = _bare_connection) -> None:
    """``python bench/<script>.py bare PORT``: serve ``handler`` until interrupted."""
    if len(sys.argv) != 3 or sys.argv[1] != "bare":
        sys.exit(f"usage: python {sys.argv[0]} bare PORT")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_bare(int(sys.argv[2]), handler))


if __name__ == "__main__":
    main()

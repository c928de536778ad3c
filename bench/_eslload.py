"""The ESL side of the gate-alone benchmark: FreeSWITCH's outbound socket, open loop, and the bare
ESL server it is compared with.

Each call is what ``socket 127.0.0.1:PORT async full`` does, played by
:class:`dialguard.esl.testing.FakeFreeSwitch` (the frame-by-frame peer the ESL tests use):
connect, answer ``connect`` with the channel data of a recorded transcript (caller, callee,
tenant and uniqueid replaced), answer every command, and end the call after ``transfer`` or
``hangup``. Latency is connect → the ``set dialguard_verdict=…`` command received.

The bare server (``python bench/_eslload.py bare PORT``) sends ``connect``, reads the channel
data, sets the verdict variable in one ``sendmsg`` and closes: the floor for an asyncio ESL
server here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from _agiload import CALL_TIMEOUT_S, StepResult

from dialguard.esl.testing import ChannelData, FakeFreeSwitch

FIXTURE = Path(__file__).resolve().parent.parent / "tests/fixtures/esl/connect-reply.esl"
VERDICT = "dialguard_verdict"
REASON = "dialguard_reason"


def channel_data(callee: str, tenant: str, caller: str, uniqueid: str) -> ChannelData:
    return ChannelData.load(FIXTURE).with_(
        caller=caller, callee=callee, tenant=tenant, uniqueid=uniqueid
    )


async def _one_call(
    fs: FakeFreeSwitch, channel: ChannelData, scheduled: float, result: StepResult
) -> None:
    loop = asyncio.get_running_loop()
    result.start_lag_ms.append(max(0.0, loop.time() - scheduled) * 1000)
    started = time.perf_counter()
    verdict_at = 0.0
    outcome = "error no verdict"
    try:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            session = await fs.connect(channel)
            while await session.answer():
                variables = session.record.variables
                if not verdict_at and VERDICT in variables:
                    verdict_at = time.perf_counter()
                    reason = variables.get(REASON, "")
                    verdict = variables[VERDICT]
                    outcome = "ALLOW" if verdict == "ALLOW" else f"DENY {reason}".strip()
            await session.close()
    except TimeoutError:
        outcome = "error timeout"
    except OSError as exc:
        outcome = f"error {type(exc).__name__}"
    result.outcomes[outcome] += 1
    if verdict_at:
        result.latencies_ms.append((verdict_at - started) * 1000)


async def run_esl_step(
    host: str,
    port: int,
    rate: float,
    channels: Iterable[ChannelData],
    count: int,
    *,
    poisson: bool = False,
    seed: int = 1,
) -> StepResult:
    """Offer ``count`` calls at ``rate`` per second (fixed interval, or Poisson arrivals)."""
    loop = asyncio.get_running_loop()
    fs = FakeFreeSwitch(port, ChannelData.load(FIXTURE), host=host, timeout=CALL_TIMEOUT_S)
    rng = random.Random(seed)
    result = StepResult(offered_rate=rate, calls=count)
    tasks: set[asyncio.Task[None]] = set()
    begin = loop.time() + 0.05
    at = begin
    iterator = iter(channels)
    for _ in range(count):
        channel = next(iterator)
        await asyncio.sleep(max(at - loop.time(), 0.0))  # yields even when behind schedule
        task = asyncio.create_task(_one_call(fs, channel, at, result))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        at += rng.expovariate(rate) if poisson else 1 / rate
    if tasks:
        await asyncio.gather(*tasks)
    result.elapsed_s = loop.time() - begin
    return result


# --- the bare server ---------------------------------------------------------------------


async def _bare_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        writer.write(b"connect\n\n")
        await reader.readuntil(b"\n\n")
        writer.write(
            b"sendmsg\ncall-command: execute\nexecute-app-name: set\n"
            b"execute-app-arg: " + VERDICT.encode() + b"=ALLOW\n\n"
        )
        await reader.readuntil(b"\n\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve_bare(port: int) -> None:
    server = await asyncio.start_server(_bare_connection, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "bare":
        sys.exit("usage: python bench/_eslload.py bare PORT")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_bare(int(sys.argv[2])))

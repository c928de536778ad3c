"""The ESL side of the gate-alone benchmark: FreeSWITCH's outbound socket, open loop, and the bare
ESL server it is compared with.

Each call is what ``socket 127.0.0.1:PORT async full`` does, played by
:class:`dialguard.esl.testing.FakeFreeSwitch` (the frame-by-frame peer the ESL tests use):
connect, answer every command (``uuid_dump`` with the channel data of a recorded transcript,
caller, callee, tenant and uniqueid replaced), and end the call after ``uuid_transfer`` or
``uuid_kill``. Latency is connect → the ``uuid_setvar_multi`` with ``dialguard_verdict``
received.

The bare server (``python bench/_eslload.py bare PORT``) asks for the uuid and the channel data
as the gate does, sets the verdict variable in one ``api uuid_setvar_multi`` and closes: the
floor for an asyncio ESL server here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path

from _agiload import CALL_TIMEOUT_S, StepResult, main, offer

from dialguard.esl.testing import ChannelData, FakeFreeSwitch

FIXTURE = Path(__file__).resolve().parent.parent / "tests/fixtures/esl/uuid-dump.esl"
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
    """Offer ``count`` outbound-socket calls at ``rate`` per second."""
    fs = FakeFreeSwitch(port, ChannelData.load(FIXTURE), host=host, timeout=CALL_TIMEOUT_S)

    async def one_call(channel: ChannelData, scheduled: float, result: StepResult) -> None:
        await _one_call(fs, channel, scheduled, result)

    return await offer(rate, channels, count, one_call, poisson=poisson, seed=seed)


# --- the bare server ---------------------------------------------------------------------


async def _bare_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        writer.write(b"linger\n\ngetvar uuid\n\n")
        uuid = (await reader.readuntil(b"\n\n")).split(b"Reply-Text: ")[1].split(b"\n")[0]
        writer.write(b"api uuid_dump " + uuid + b"\n\n")
        envelope = await reader.readuntil(b"\n\n")
        await reader.readexactly(int(envelope.split(b"Content-Length: ")[1].split(b"\n")[0]))
        writer.write(b"api uuid_setvar_multi " + uuid + b" " + VERDICT.encode() + b"=ALLOW\n\n")
        await reader.readuntil(b"\n\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


if __name__ == "__main__":
    main(_bare_connection)

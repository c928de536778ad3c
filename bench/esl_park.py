"""Issue 15: what FreeSWITCH's outbound ``socket`` costs a gate, whatever the gate does.

    .venv/bin/python bench/esl_park.py [--rate 20] [--duration 5] [--decide-ms 0]
        [--peers connect,early,media]

SIPp → the real FreeSWITCH 1.11.1 (``devkit/freeswitch.py``, the shipped ``dialguard.xml``) →
a trivial outbound-socket peer that decides nothing: it waits ``--decide-ms`` and allows. Each
peer runs next to its baseline path in the same run (``bench/pbx_e2e.py``'s trial): the bare
no-gate path (no notice, no recording) for the first two, which set neither:

- ``connect``: the gate's conversation until issue 15 was closed (``connect``, ``linger``,
  ``myevents``, ``event``; then ``sendmsg`` ``multiset`` and ``transfer``).
- ``early``: the call transferred before ``connect`` is ever sent, as the gate does now
  (``dialguard/esl/session.py``). The first command gets no
  reply unless it is ``connect`` (``listener_run``), so ``linger`` goes first; then ``getvar
  uuid`` (the channel data would come from ``api uuid_dump <uuid>``, the same headers as the
  ``connect`` reply); then ``api uuid_setvar_multi`` and ``api uuid_transfer``, which
  ``mod_event_socket`` runs at once in its own thread (``full`` mode), not queued.
- ``media``: ``early`` plus the variables the gate's ALLOW of a recorded call sets (the notice
  the callee leg plays, the recording on answer), next to the no-gate path that sets the same in
  the dialplan: what the socket costs when the media work is there too, without the gate's
  dump, events and decision.

Why they differ (FreeSWITCH 1.11.1 sources, ``../shared/freeswitch/src``): with ``async``,
``socket_function`` (mod_event_socket.c) waits for ``LFLAG_CONNECTED`` — set by ``connect`` —
and then calls ``switch_ivr_park``. A channel without media (not answered, no early media) parks
in a loop that first sleeps ``switch_yield(20000)`` (switch_ivr.c, ``switch_ivr_park``, the
``!rate`` branch; a plain 20 ms sleep, nothing wakes it) and only then takes the private events
our ``sendmsg`` commands were queued as (``switch_core_session_queue_private_event``). So after
``connect`` the verdict is acted on no earlier than 20 ms later, and 20 ms more each time the
decision misses a tick. A transfer done before ``connect`` makes ``switch_channel_ready`` false
(``CF_TRANSFER``): the wait for ``LFLAG_CONNECTED`` ends and the park loop never runs.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _common import console, percentile  # noqa: E402
from pbx_e2e import BARE_PREFIX, NOTICE, Bench  # noqa: E402
from rich.table import Table  # noqa: E402

from devkit.bench_asterisk import NO_GATE_PREFIX  # noqa: E402
from devkit.freeswitch import FreeSwitch  # noqa: E402
from devkit.net import LOOPBACK, free_port  # noqa: E402

PEERS = {"connect": "bare", "early": "bare", "media": "no gate"}
"""Each peer and the path it is compared with: ``media`` sets what the gate's ALLOW of a recorded
call sets (notice and recording), so its baseline is the no-gate path that sets them too."""
MEDIA = (
    f"group_confirm_key=exec|group_confirm_file=playback {NOTICE}"
    "|execute_on_answer_dialguard=record_session $${recordings_dir}/park-{uuid}.wav|"
)
SUBSCRIBE = ("myevents", "event plain CHANNEL_HANGUP_COMPLETE")


class Conversation:
    """One outbound-socket connection: frames in, commands out; just enough for the probe."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._buf = b""

    def send(self, *commands: str) -> None:
        self._writer.write(b"".join(c.encode() + b"\n\n" for c in commands))

    async def frame(self) -> tuple[dict[str, str], str]:
        while b"\n\n" not in self._buf:
            await self._more()
        head, self._buf = self._buf.split(b"\n\n", 1)
        headers = {}
        for line in head.decode().splitlines():
            name, _, value = line.partition(": ")
            headers[name] = unquote(value)
        length = int(headers.get("Content-Length", "0"))
        while len(self._buf) < length:
            await self._more()
        body, self._buf = self._buf[:length], self._buf[length:]
        return headers, body.decode(errors="replace")

    async def reply(self) -> tuple[dict[str, str], str]:
        """The next command/reply or api/response (events in between are skipped)."""
        while True:
            headers, body = await self.frame()
            if headers.get("Content-Type") in ("command/reply", "api/response"):
                return headers, body

    async def until_hangup(self) -> None:
        while "CHANNEL_HANGUP_COMPLETE" not in (await self.frame())[1]:
            pass

    async def _more(self) -> None:
        data = await self._reader.read(65536)
        if not data:
            raise EOFError
        self._buf += data


async def connect_peer(talk: Conversation, decide_s: float) -> None:
    talk.send("connect", "linger", *SUBSCRIBE)
    channel, _ = await talk.reply()
    for _ in range(3):  # linger, myevents, event
        await talk.reply()
    await asyncio.sleep(decide_s)
    destination = channel["Caller-Destination-Number"]
    talk.send(
        "sendmsg\ncall-command: execute\nexecute-app-name: multiset\n"
        "execute-app-arg: ^^|dialguard_reason=probe|dialguard_verdict=ALLOW\nevent-lock: true",
        "sendmsg\ncall-command: execute\nexecute-app-name: transfer\n"
        f"execute-app-arg: {destination} XML dialguard_allowed\nevent-lock: true",
    )
    for _ in range(2):
        await talk.reply()


async def early_peer(talk: Conversation, decide_s: float, media: bool = False) -> None:
    talk.send("linger", "getvar uuid", "getvar destination_number", *SUBSCRIBE)  # linger: no reply
    uuid = (await talk.reply())[0]["Reply-Text"]
    destination = (await talk.reply())[0]["Reply-Text"]
    for _ in range(2):  # myevents, event
        await talk.reply()
    await asyncio.sleep(decide_s)
    variables = (MEDIA.replace("{uuid}", uuid) if media else "") + "dialguard_verdict=ALLOW"
    talk.send(
        f"api uuid_setvar_multi {uuid} ^^|dialguard_reason=probe|{variables}",
        f"api uuid_transfer {uuid} {destination} XML dialguard_allowed",
    )
    for _ in range(2):
        _, body = await talk.reply()
        if not body.startswith("+OK"):
            raise RuntimeError(f"FreeSWITCH refused: {body.strip()}")


async def serve(port: int, peer: str, decide_ms: float) -> None:
    talk_to = {
        "connect": connect_peer,
        "early": early_peer,
        "media": functools.partial(early_peer, media=True),
    }[peer]

    async def one_call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        talk = Conversation(reader, writer)
        try:
            await talk_to(talk, decide_ms / 1000)
            await talk.until_hangup()
        except (EOFError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(one_call, LOOPBACK, port)
    async with server:
        await server.serve_forever()


class Numbers:
    """Distinct caller/callee pairs for :class:`Bench` (no store: the peer decides nothing)."""

    def calls(self) -> Iterator[tuple[str, str, str]]:
        for i in itertools.count():
            yield f"+861060{i % 1_000_000:06d}", f"+86137{i:08d}", "probe"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--decide-ms", type=float, default=0.0)
    parser.add_argument("--peers", default="connect,early", help=f"of {', '.join(PEERS)}")
    parser.add_argument("--serve", nargs=2, metavar=("PEER", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(int(args.serve[1]), args.serve[0], args.decide_ms))
        return 0
    table = Table(
        title=f"SIPp → FreeSWITCH 1.11.1 → a peer that waits {args.decide_ms:g} ms and allows, "
        f"{args.rate:g} calls/s for {args.duration:g} s; post-dial delay in ms"
    )
    for name in (
        "peer",
        "p50",
        "p99",
        "baseline",
        "its p50",
        "its p99",
        "Δ p50",
        "Δ p99",
        "failed",
    ):
        table.add_column(name, justify="right")
    work = Path(tempfile.mkdtemp(prefix="dialguard-esl-park-"))
    fs = FreeSwitch(
        tenant="probe",
        no_gate_prefix=NO_GATE_PREFIX,
        no_gate_notice=NOTICE,
        bare_prefix=BARE_PREFIX,
        log_level="warning",
    )
    with fs:
        for peer in args.peers.split(","):
            baseline = PEERS[peer]
            port = free_port()
            argv = [sys.executable, __file__, "--serve", peer, str(port)]
            server = subprocess.Popen([*argv, "--decide-ms", str(args.decide_ms)])
            try:
                time.sleep(0.5)
                fs.set_global("dialguard_socket", f"{LOOPBACK}:{port}")
                (work / peer).mkdir()
                bench = Bench(fs.sip_port, Numbers(), work / peer, 0)  # type: ignore[arg-type]
                for path in ("gate", baseline):  # warm-up
                    bench.trial(path, 5, 1)
                gate, bare = (bench.trial(p, args.rate, args.duration) for p in ("gate", baseline))
            finally:
                server.kill()
                server.wait()
            g50, g99 = percentile(gate.pdd_ms, 50), percentile(gate.pdd_ms, 99)
            b50, b99 = percentile(bare.pdd_ms, 50), percentile(bare.pdd_ms, 99)
            table.add_row(
                peer, f"{g50:.1f}", f"{g99:.1f}", baseline, f"{b50:.1f}", f"{b99:.1f}",
                f"{g50 - b50:+.1f}", f"{g99 - b99:+.1f}", f"{gate.failures}/{bare.failures}",
            )  # fmt: skip
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

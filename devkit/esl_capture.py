"""A relay between FreeSWITCH's outbound ``socket`` and the gate that keeps what each side wrote.

    .venv/bin/python -m devkit.esl_capture LISTEN_PORT GATE_PORT OUTDIR

Point the dialplan's ``dialguard_socket`` at ``127.0.0.1:LISTEN_PORT``; every connection is
relayed to ``127.0.0.1:GATE_PORT`` and saved as ``OUTDIR/<n>.fs.esl`` (the bytes FreeSWITCH
sent, exactly) and ``OUTDIR/<n>.gate.esl`` (the gate's commands). ``tests/fixtures/esl/`` was
recorded this way (see its README).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from pathlib import Path


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, out: Path) -> None:
    with out.open("wb") as sink:
        while data := await reader.read(65536):
            sink.write(data)
            sink.flush()
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()


async def serve(listen_port: int, gate_port: int, outdir: Path) -> None:
    numbers = itertools.count(1)

    async def relay(fs_reader: asyncio.StreamReader, fs_writer: asyncio.StreamWriter) -> None:
        n = next(numbers)
        gate_reader, gate_writer = await asyncio.open_connection("127.0.0.1", gate_port)
        try:
            await asyncio.gather(
                _pump(fs_reader, gate_writer, outdir / f"{n}.fs.esl"),
                _pump(gate_reader, fs_writer, outdir / f"{n}.gate.esl"),
                return_exceptions=True,
            )
        finally:
            gate_writer.close()
            fs_writer.close()

    server = await asyncio.start_server(relay, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[0].isdigit() or not argv[1].isdigit():
        print("usage: python -m devkit.esl_capture LISTEN_PORT GATE_PORT OUTDIR", file=sys.stderr)
        return 2
    Path(argv[2]).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(int(argv[0]), int(argv[1]), Path(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

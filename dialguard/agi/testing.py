"""A fake Asterisk for tests: connects to a FastAGI server the way ``res_agi`` does, sends a header
block (realistic, or broken on purpose), answers commands with scripted replies and records them.

    asterisk = FakeAsterisk(server.port)
    call = await asterisk.call(header_block("outbound", args=("13800138000", "acme")))
    assert call.variables["DIALGUARD_VERDICT"] == "ALLOW"

Commands are split with the same rules as Asterisk's ``parse_args`` so tests see what Asterisk
would: quotes and backslashes removed, one argument per quoted string.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

HANGUP = "HANGUP"
REPLY_OK: tuple[str, ...] = ("200 result=0",)
REPLY_INVALID: tuple[str, ...] = ("510 Invalid or unknown command",)
REPLY_DEAD: tuple[str, ...] = ("511 Command Not Permitted on a dead channel or intercept routine",)
REPLY_USAGE: tuple[str, ...] = (
    "520-Invalid command syntax.  Proper usage follows:",
    " Usage: EXEC <application> <options>",
    "        Executes application with given options.",
    "520 End of proper usage.",
)
HeaderValue = str | bytes


def header_block(
    route: str = "outbound",
    *,
    args: Sequence[str] = ("13800138000", "acme", "callback"),
    callerid: HeaderValue = "01088886666",
    calleridname: HeaderValue = "Agent 1001",
    callingpres: int = 0,
    uniqueid: str = "1754470000.7",
    accountcode: str = "",
    extra: Sequence[tuple[str, HeaderValue]] = (),
    terminated: bool = True,
) -> bytes:
    """A block in the order Asterisk 22 sends it (``launch_netscript`` then ``setup_env``);
    ``extra`` lines (duplicates, unknown keys) go before the empty line."""
    lines: list[tuple[str, HeaderValue]] = [
        ("agi_network", "yes"),
        ("agi_network_script", route),
        ("agi_request", f"agi://127.0.0.1:4573/{route}"),
        ("agi_channel", "PJSIP/agent-1001-00000007"),
        ("agi_language", "en"),
        ("agi_type", "PJSIP"),
        ("agi_uniqueid", uniqueid),
        ("agi_version", "22.10.1"),
        ("agi_callerid", callerid),
        ("agi_calleridname", calleridname),
        ("agi_callingpres", str(callingpres)),
        ("agi_callingani2", "0"),
        ("agi_callington", "0"),
        ("agi_callingtns", "0"),
        ("agi_dnid", args[0] if args else "unknown"),
        ("agi_rdnis", "unknown"),
        ("agi_context", "dialguard-outbound"),
        ("agi_extension", args[0] if args else "s"),
        ("agi_priority", "3"),
        ("agi_enhanced", "0.0"),
        ("agi_accountcode", accountcode),
        ("agi_threadid", "139872345990848"),
        *((f"agi_arg_{n}", arg) for n, arg in enumerate(args, start=1)),
        *extra,
    ]
    data = b"".join(
        key.encode() + b": " + (value if isinstance(value, bytes) else value.encode()) + b"\n"
        for key, value in lines
    )
    return data + b"\n" if terminated else data


def split_args(line: str) -> list[str]:
    """Split an AGI command like Asterisk's ``parse_args``: ``"`` toggles quoting, ``\\``
    escapes the next character, unquoted blanks separate arguments."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
            continue
        elif ch == '"':
            quoted = not quoted
            current = [] if current is None else current
            continue
        elif ch in " \t" and not quoted:
            if current is not None:
                args.append("".join(current))
            current = None
            continue
        current = [] if current is None else current
        current.append(ch)
    if current is not None:
        args.append("".join(current))
    return args


def mset_assignments(line: str) -> dict[str, str]:
    """``EXEC MSet "A=1,B=2"`` → ``{"A": "1", "B": "2"}``; other commands → ``{}``."""
    argv = split_args(line)
    if len(argv) < 3 or argv[0].upper() != "EXEC" or argv[1].lower() != "mset":
        return {}
    pairs = (item.partition("=") for item in argv[2].split(","))
    return {name: value for name, _, value in pairs}


@dataclass
class CallRecord:
    """What the server did during one connection."""

    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    """Channel variables set by every MSet, as Asterisk would have them."""


class AgiPeer:
    """One connection from the fake Asterisk."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()

    async def converse(self, replies: Sequence[str] = REPLY_OK) -> CallRecord:
        """Answer every command with ``replies`` (lines, e.g. ``(HANGUP, "200 result=0")``)
        until the server closes the connection; then close ours."""
        record = CallRecord()
        # The server may close while we answer (it awaits no reply after a broken block).
        with contextlib.suppress(ConnectionError):
            while line := await self._reader.readline():
                text = line.decode("utf-8", errors="replace").removesuffix("\n")
                record.commands.append(text)
                record.variables.update(mset_assignments(text))
                await self.send("".join(f"{reply}\n" for reply in replies).encode())
        with contextlib.suppress(ConnectionError):
            await self.close()
        return record


class FakeAsterisk:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        """No test waits longer than this for the server."""

    async def connect(self, data: bytes = b"") -> AgiPeer:
        """Open a connection and send ``data`` (a partial block, garbage…) without finishing."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        peer = AgiPeer(reader, writer)
        if data:
            await peer.send(data)
        return peer

    async def call(
        self, block: bytes | None = None, replies: Sequence[str] = REPLY_OK
    ) -> CallRecord:
        """A whole call: the header block (default :func:`header_block`), then the replies."""
        async with asyncio.timeout(self.timeout):
            peer = await self.connect(header_block() if block is None else block)
            return await peer.converse(replies)

    async def hang_up_during_headers(self, data: bytes) -> None:
        """Send part of a block and close, as a channel torn down mid-``AGI()`` does."""
        async with asyncio.timeout(self.timeout):
            peer = await self.connect(data)
            await peer.close()

"""A FreeSWITCH peer for tests: plays FreeSWITCH's side of the outbound socket, frame by frame.

    fs = FakeFreeSwitch(server.port, ChannelData.load(FIXTURES / "uuid-dump.esl"))
    record = await fs.call(fs.channel.with_(callee="13800138000", tenant="acme"))
    assert record.variables["dialguard_verdict"] == "ALLOW"

The channel data comes from a recorded ``uuid_dump`` (values can be overridden per call); every
frame is written the way ``mod_event_socket.c`` writes it: no reply to the first command (unless
it is ``connect``, which the gate never sends), command replies as ``Content-Type:
command/reply`` + ``Reply-Text`` (``getvar``'s is the value), ``api`` output behind an
``api/response`` envelope, events as ``switch_event_serialize(…, SWITCH_TRUE)`` with
``switch_url_encode``'d values behind a ``text/event-plain`` envelope, disconnect notices as
``send_disconnect`` and the linger branch of ``read_packet`` do. Variables, what the gate asked
for (``api`` commands, ``sendmsg`` applications) and the hangup cause are recorded; a call ends
(RECORD_STOP, linger notice, CHANNEL_HANGUP_COMPLETE) after ``uuid_transfer`` or ``uuid_kill``,
as FreeSWITCH reports it once the operator's bridge is over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_to_bytes

_URL_UNSAFE = b'\r\n "#%&+:;<=>?@[\\]^`{|}'
_REPLY_ONLY = {"Content-Type", "Reply-Text", "Socket-Mode", "Control"}
"""Headers of a ``connect`` reply that no event carries (a ``uuid_dump`` has none of them)."""
API_ACTIONS = ("uuid_setvar_multi", "uuid_transfer", "uuid_kill")
RECORDINGS_DIR = "/var/lib/freeswitch/recordings"
"""What ``$${recordings_dir}`` expands to in this fake."""
CALLEE_LEG = "5f0c2a4e-9d1b-4c7e-8a63-0b7f2d9e4c11"
"""The uuid of the leg a fake call bridges to."""
ANSWERED_US = 1754470015000000
HANGUP_US = 1754470075000000
Value = str | bytes


def url_encode(value: bytes) -> bytes:
    """``switch_url_encode``: control bytes, non-ASCII and ``_URL_UNSAFE`` become ``%XX``."""
    return b"".join(
        b"%%%02X" % byte if byte < 0x20 or byte > 0x7E or byte in _URL_UNSAFE else bytes([byte])
        for byte in value
    )


def serialize(headers: Sequence[tuple[str, bytes]], body: bytes = b"") -> bytes:
    """``switch_event_serialize(event, &str, SWITCH_TRUE)``: empty values are ``_undef_``."""
    lines = b"".join(
        name.encode() + b": " + (url_encode(value) or b"_undef_") + b"\n" for name, value in headers
    )
    if body:
        return lines + b"Content-Length: %d\n\n" % len(body) + body
    return lines + b"\n"


def reply(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def api_response(text: bytes) -> bytes:
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(text) + text


def event_frame(headers: Sequence[tuple[str, bytes]], body: bytes = b"") -> bytes:
    data = serialize(headers, body)
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data


def disconnect_notice(uuid: str, *, linger: bool, channel_name: str = "") -> bytes:
    if linger:
        return (
            "Content-Type: text/disconnect-notice\n"
            f"Controlled-Session-UUID: {uuid}\nContent-Disposition: linger\n"
            f"Channel-Name: {channel_name}\nLinger-Time: -1\nContent-Length: 0\n\n"
        ).encode()
    message = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    return (
        "Content-Type: text/disconnect-notice\n"
        f"Controlled-Session-UUID: {uuid}\nContent-Disposition: disconnect\n"
        f"Content-Length: {len(message)}\n\n"
    ).encode() + message


_OVERRIDES = {
    "caller": ("Channel-Caller-ID-Number", "Caller-Caller-ID-Number", "variable_sip_from_user"),
    "caller_name": ("Channel-Caller-ID-Name", "Caller-Caller-ID-Name"),
    "callee": ("Channel-Destination-Number", "Caller-Destination-Number"),
    "uniqueid": ("Channel-Unique-ID", "Unique-ID", "Caller-Unique-ID", "variable_uuid"),
    "tenant": ("variable_dialguard_tenant",),
    "purpose": ("variable_dialguard_purpose",),
    "accountcode": ("variable_accountcode",),
    "hide_number": ("Caller-Privacy-Hide-Number", "Channel-Privacy-Hide-Number"),
    "sip_privacy": ("variable_sip_Privacy",),
    "route": ("variable_dialguard_direction",),
}


@dataclass(frozen=True)
class ChannelData:
    """The channel's headers as ``uuid_dump`` gives them, decoded, in wire order."""

    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def load(cls, path: Path) -> ChannelData:
        """A transcript of the bytes FreeSWITCH sent in reply to ``api uuid_dump``: the
        ``api/response`` envelope, then the headers."""
        envelope, _, body = path.read_bytes().partition(b"\n\n")
        if not envelope.startswith(b"Content-Type: api/response\n"):
            raise ValueError(f"{path.name}: not an api/response")
        block = body.strip(b"\n")
        pairs = (line.split(b": ", 1) for line in block.split(b"\n"))
        return cls(tuple((k.decode(), unquote_to_bytes(v)) for k, v in pairs))

    def get(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    def with_(self, **values: Value | None) -> ChannelData:
        """Override by role (``caller``, ``callee``, ``tenant``, ``hide_number``…: see
        ``_OVERRIDES``) or by header name; ``None`` removes the header."""
        headers = list(self.headers)
        for role, value in values.items():
            raw = value.encode() if isinstance(value, str) else value
            for name in _OVERRIDES.get(role, (role,)):
                _replace(headers, name, raw)
        return ChannelData(tuple(headers))

    def dump_response(self) -> bytes:
        """The ``api/response`` to ``api uuid_dump <its uuid>``."""
        return api_response(serialize(self.headers))

    def event(self, name: str, *extra: tuple[str, str]) -> bytes:
        """An event of this channel: FreeSWITCH adds the channel's headers to each."""
        headers = [(k, v) for k, v in self.headers if k not in _REPLY_ONLY]
        for key, value in (("Event-Name", name), *extra):
            _replace(headers, key, value.encode())
        return event_frame(headers)

    def callee_event(self, name: str, *extra: tuple[str, str], uuid: str = CALLEE_LEG) -> bytes:
        """An event of the leg this channel was bridged to: its own uuid, ours as the other
        leg's (how ``filter Other-Leg-Unique-ID <ours>`` lets it through)."""
        ours = self.get("Unique-ID")
        own = (("Unique-ID", uuid), ("Channel-Unique-ID", uuid), ("Other-Leg-Unique-ID", ours))
        return self.event(name, *own, *extra)


def _replace(headers: list[tuple[str, bytes]], name: str, raw: bytes | None) -> None:
    """In place; a new header goes before the reply's own trailing headers, as in FreeSWITCH."""
    index = next((i for i, (k, _) in enumerate(headers) if k == name), None)
    if index is not None:
        del headers[index]
    else:
        index = next((i for i, (k, _) in enumerate(headers) if k in _REPLY_ONLY), len(headers))
    if raw is not None:
        headers.insert(index, (name, raw))


@dataclass
class CallRecord:
    """What dialguard did during one connection."""

    commands: list[str] = field(default_factory=list)
    """First line of every command, in order."""
    writes: list[int] = field(default_factory=list)
    """For each command, the number of the read that brought it (1 for the first burst): the
    gate's round trips. The peer answers only after it has read everything already sent."""
    apps: list[tuple[str, str]] = field(default_factory=list)
    """``(command, its arguments after the uuid)`` of every ``api`` action on our channel,
    ``(execute-app-name, execute-app-arg)`` of every ``sendmsg`` execute."""
    other_leg: list[tuple[str, str, str]] = field(default_factory=list)
    """``(uuid, app or "hangup", arg or cause)`` of every ``sendmsg <uuid>`` for another leg."""
    variables: dict[str, str] = field(default_factory=dict)
    hangup_cause: str | None = None
    raw: list[bytes] = field(default_factory=list)


class FsSession:
    """One outbound-socket connection, driven step by step or all at once (:meth:`converse`)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        channel: ChannelData,
        write_recording: Callable[[Path], None] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.channel = channel
        self._write_recording = write_recording
        """Plays FreeSWITCH's media thread: writes the file ``record_session`` names."""
        self.record = CallRecord()
        self._recording_path = ""
        self._on_answer = ""
        self._buffer = b""
        self._reads = 0
        self.quiet = False
        """Play a peer that goes silent once the call is over: it still answers commands, but
        sends no event or disconnect notice and never closes its side."""
        self.record_file_path: Callable[[str], str] | None = None
        """Plays a hostile peer: maps the file recorded to what RECORD_STOP names instead."""
        self.notice_response = "FILE PLAYED"
        """``Application-Response`` of the callee leg's ``group_confirm_file`` playback."""

    async def send(self, data: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            self._writer.write(data)
            await self._writer.drain()

    async def read_command(self) -> tuple[str, dict[str, str]] | None:
        """The next command, or None once dialguard closed the connection."""
        while b"\n\n" not in self._buffer:
            try:
                data = await self._reader.read(65536)
            except ConnectionError:
                return None
            if not data:
                return None
            self._buffer += data
            self._reads += 1
        block, self._buffer = self._buffer.split(b"\n\n", 1)
        block += b"\n\n"
        self.record.raw.append(block)
        first, *lines = block.decode("utf-8", errors="replace").rstrip("\n").split("\n")
        headers = dict(line.split(": ", 1) for line in lines if ": " in line)
        self.record.commands.append(first)
        self.record.writes.append(self._reads)
        return first, headers

    async def answer_setup(self) -> None:
        """Take ``linger`` and answer what comes before the verdict (``getvar uuid``, the dump,
        the two filters, ``event``)."""
        for _ in range(6):
            await self.answer()

    async def answer(self, instead: bytes | None = None) -> bool:
        """Read one command and answer it as FreeSWITCH would (or with ``instead``): the
        first one (``linger``) gets no reply."""
        command = await self.read_command()
        if command is None:
            return False
        first, headers = command
        if len(self.record.commands) == 1:
            return True
        if instead is not None:
            await self.send(instead)
            return True
        await self.send(self._reply_to(first))
        if first.startswith("api "):
            await self._api(first)
        elif first == "sendmsg":
            await self._execute(headers)
        elif first.startswith("sendmsg "):
            await self._execute_on(first.partition(" ")[2], headers)
        return True

    async def converse(self) -> CallRecord:
        """Answer everything until dialguard closes the connection; then close ours."""
        while await self.answer():
            pass
        await self.close()
        return self.record

    async def hang_up(self) -> None:
        """The caller hangs up with no ``linger``: notice and close, as ``send_disconnect``."""
        await self.send(disconnect_notice(self.channel.get("Unique-ID"), linger=False))
        await self.close()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    def _reply_to(self, first: str) -> bytes:
        if first.startswith("api "):
            return self._api_output(first.split(" ", 3)[1:])
        if first.startswith("getvar "):
            name = first[7:]
            return reply(self.channel.get("Unique-ID" if name == "uuid" else f"variable_{name}"))
        if first == "linger":
            return reply("+OK will linger")
        if first.startswith("event plain "):
            return reply("+OK event listener enabled plain")
        if first.startswith("nixevent "):
            return reply("+OK events nixed")
        if first.startswith("filter "):
            return reply(f"+OK filter added. [{first[7:]}]")
        if first == "sendmsg" or first.startswith("sendmsg "):
            return reply("+OK")
        return reply("-ERR command not found")

    def _api_output(self, words: list[str]) -> bytes:
        command = words[0]
        if command not in ("uuid_dump", *API_ACTIONS):
            return api_response(f"-ERR {command} Command not found!\n".encode())
        if words[1:2] != [self.channel.get("Unique-ID")]:
            return api_response(b"-ERR No such channel!\n")
        if command == "uuid_dump":
            return self.channel.dump_response()
        return api_response(b"+OK\n")

    async def _api(self, first: str) -> None:
        """What an ``api`` command on our channel does: variables, transfer, hangup."""
        command, uuid, *rest = first[4:].split(" ", 2)
        if command not in API_ACTIONS or uuid != self.channel.get("Unique-ID"):
            return
        arg = rest[0] if rest else ""
        self.record.apps.append((command, arg))
        if command == "uuid_setvar_multi":
            delimiter, items = (arg[2], arg[3:]) if arg.startswith("^^") else (";", arg)
            for item in items.split(delimiter):
                name, _, value = item.partition("=")
                self._set(name, value)
        elif command == "uuid_kill":
            self.record.hangup_cause = arg or "NORMAL_CLEARING"
            await self.end_call(self.record.hangup_cause, answered=False)
        else:
            await self._transfer()

    async def _transfer(self) -> None:
        """The call goes to the operator's bridge, which answers it, and is over."""
        await self._confirm_on_callee_leg()
        if self._on_answer:  # the bridge answers: FreeSWITCH runs execute_on_answer*
            self._start_recording(self._on_answer.partition(" ")[2])
        elif self.record.variables.get("bridge_pre_execute_aleg_app") == "record_session":
            self._start_recording(self.record.variables["bridge_pre_execute_aleg_data"])
        await self.end_call("NORMAL_CLEARING", answered=True)

    async def _execute(self, headers: dict[str, str]) -> None:
        if headers.get("call-command") == "hangup":
            self.record.hangup_cause = headers.get("hangup-cause", "NORMAL_CLEARING")
            await self.end_call(self.record.hangup_cause, answered=False)
            return
        app, arg = headers.get("execute-app-name", ""), headers.get("execute-app-arg", "")
        self.record.apps.append((app, arg))

    async def _confirm_on_callee_leg(self) -> None:
        """``bridge`` with ``group_confirm_key=exec``: the callee leg runs the file's app once it
        answers, before the bridge (and the answer of our channel)."""
        variables = self.record.variables
        if variables.get("group_confirm_key") != "exec" or self.quiet:
            return
        app, _, arg = variables.get("group_confirm_file", "").partition(" ")
        completed = (
            ("Application", app),
            ("Application-Data", arg),
            ("Application-Response", self.notice_response),
        )
        await self.send(self.channel.callee_event("CHANNEL_EXECUTE_COMPLETE", *completed))

    async def _execute_on(self, uuid: str, headers: dict[str, str]) -> None:
        """``sendmsg <uuid>``: the bridged leg; its hangup ends the bridge, and so our call."""
        if headers.get("call-command") == "hangup":
            cause = headers.get("hangup-cause", "NORMAL_CLEARING")
            self.record.other_leg.append((uuid, "hangup", cause))
            await self.end_call("NORMAL_CLEARING", answered=True)
            return
        app, arg = headers.get("execute-app-name", ""), headers.get("execute-app-arg", "")
        self.record.other_leg.append((uuid, app, arg))

    def _set(self, name: str, value: str) -> None:
        self.record.variables[name] = value
        if name.startswith("execute_on_answer"):
            self._on_answer = value

    def _start_recording(self, path: str) -> None:
        self._recording_path = path.replace("$${recordings_dir}", RECORDINGS_DIR)
        if self._write_recording is not None:
            self._write_recording(Path(self._recording_path))

    async def end_call(self, cause: str, *, answered: bool) -> None:
        """What FreeSWITCH sends when the channel is over: RECORD_STOP for a recording, the
        linger notice, CHANNEL_HANGUP_COMPLETE."""
        if self.quiet:
            return
        uuid = self.channel.get("Unique-ID")
        if self._recording_path:
            path = self._recording_path
            if self.record_file_path is not None:
                path = self.record_file_path(path)
            await self.send(self.channel.event("RECORD_STOP", ("Record-File-Path", path)))
        await self.send(disconnect_notice(uuid, linger=True, channel_name="sofia/internal/1001"))
        await self.send(
            self.channel.event(
                "CHANNEL_HANGUP_COMPLETE",
                ("Hangup-Cause", cause),
                ("Caller-Channel-Answered-Time", str(ANSWERED_US if answered else 0)),
                ("Caller-Channel-Hangup-Time", str(HANGUP_US)),
            )
        )


class FakeFreeSwitch:
    def __init__(
        self,
        port: int,
        channel: ChannelData,
        host: str = "127.0.0.1",
        timeout: float = 10.0,
        write_recording: Callable[[Path], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.channel = channel
        self.timeout = timeout
        self.write_recording = write_recording
        """No test waits longer than this for the server."""

    async def connect(self, channel: ChannelData | None = None) -> FsSession:
        """Open the socket as the ``socket`` application does; nothing answered yet."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return FsSession(reader, writer, channel or self.channel, self.write_recording)

    async def call(
        self, channel: ChannelData | None = None, *, dump_response: bytes | None = None
    ) -> CallRecord:
        """A whole call: every command answered until dialguard closes, the third (``api
        uuid_dump``) with ``dump_response`` when given."""
        async with asyncio.timeout(self.timeout):
            session = await self.connect(channel)
            for _ in range(2):  # linger, getvar uuid
                await session.answer()
            await session.answer(dump_response)
            return await session.converse()

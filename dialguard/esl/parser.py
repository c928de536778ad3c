"""Event Socket wire protocol, without sockets: bytes in, typed frames out.

What FreeSWITCH writes (``mod_event_socket.c`` and ``switch_event.c`` in signalwire/freeswitch):
every frame is a header block — ``Key: Value`` lines, each ended by ``\\n``, then an empty line —
followed by ``Content-Length`` bytes of body when that header is present.

- ``command/reply``: ``Reply-Text: +OK …`` or ``-ERR …``, one per command, in command order. In
  outbound mode the reply to ``connect`` is the channel's CHANNEL_DATA event serialized by
  ``switch_event_serialize(event, …, SWITCH_TRUE)`` — every value URL-encoded, ``Reply-Text:
  %2BOK%0A`` — so a reply that carries ``Event-Name`` is decoded like an event.
- ``text/event-plain``: the body is a serialized event: ``Key: <url-encoded value>`` lines, an
  empty line, and, when the event has a body, a ``Content-Length`` among those headers and that
  many bytes after the empty line.
- ``api/response``: the body is the output of an ``api`` command (``+OK``, ``-ERR …``;
  ``uuid_dump``'s is the channel's headers, URL-encoded, one ``Key: value`` line each).
- ``text/disconnect-notice``: ``Content-Disposition: linger`` when the channel hung up and the
  socket stays open for the last events, ``disconnect`` when FreeSWITCH is about to close.

Values are percent-decoded to bytes first and then read as UTF-8 with replacement characters:
caller names arrive in whatever bytes the far end sent. Header names and raw values must be
printable; a broken frame raises :class:`EslProtocolError` and the parser stays broken.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

_KEY = re.compile(rb"[!-9;-~]+")
"""Printable ASCII without blank or colon (channel-variable names are not URL-encoded)."""
_KEY_TEXT = re.compile(r"[!-9;-~]+")
"""``_KEY`` for a name looked up: one no header line could carry is simply absent."""
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_DIGITS = re.compile(rb"[0-9]{1,10}")
_BLOCK = re.compile(
    rb"[!-9;-~]+:[^\x00-\x08\x0a-\x1f\x7f]*(?:\n[!-9;-~]+:[^\x00-\x08\x0a-\x1f\x7f]*)*"
)
"""Every line a ``_KEY``, a colon and a value without ``_CONTROL`` bytes: the fast path."""
_CONTENT_LENGTH = re.compile(rb"(?i)\ncontent-length: *([^\n]*)")
"""After a line feed: a ``(?m)^`` would try every byte of a block, this only its line feeds."""


class EslProtocolError(ValueError):
    """The peer broke the protocol; ``kind`` is a stable tag for alerting."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Limits:
    max_header_bytes: int = 65536
    max_headers: int = 1024
    max_body_bytes: int = 262144


@dataclass(frozen=True, slots=True)
class CommandReply:
    reply_text: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """For the ``connect`` reply: every channel header, decoded."""

    @property
    def ok(self) -> bool:
        return self.reply_text.startswith("+OK")


@dataclass(frozen=True, slots=True)
class ApiResponse:
    body: str

    @property
    def ok(self) -> bool:
        return not self.body.startswith("-")  # -ERR …, -USAGE: …

    @property
    def reply_text(self) -> str:
        return self.body


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    headers: Mapping[str, str] = field(repr=False)
    body: str = ""

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)


@dataclass(frozen=True, slots=True)
class DisconnectNotice:
    disposition: str
    message: str = ""

    @property
    def lingering(self) -> bool:
        """The channel is gone but the socket stays open for the remaining events."""
        return self.disposition == "linger"


Reply = CommandReply | ApiResponse
"""What answers a command, in command order."""
Frame = CommandReply | ApiResponse | Event | DisconnectNotice
RawHeaders = list[tuple[str, bytes]]


def _text(value: bytes, *, url: bool) -> str:
    if url and b"%" in value:  # most values have nothing encoded: skip the slow unquote
        value = unquote_to_bytes(value)
    return value.decode("utf-8", errors="replace")


class _Headers(Mapping[str, str]):
    """Read-only headers whose values are decoded when first read: a frame carries ~170 of
    them and the gate reads about ten."""

    __slots__ = ("_decoded", "_raw", "_url")

    def __init__(self, raw: dict[str, bytes], url: bool) -> None:
        self._raw = raw
        self._url = url
        self._decoded: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        try:
            return self._decoded[key]
        except KeyError:
            value = self._decoded[key] = _text(self._raw[key], url=self._url)
            return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _first_wins(raw: RawHeaders) -> dict[str, bytes]:
    """First occurrence wins, as with ``switch_event_get_header``."""
    first: dict[str, bytes] = {}
    for key, value in raw:
        first.setdefault(key, value)
    return first


def _headers(raw: RawHeaders, *, url: bool) -> Mapping[str, str]:
    return _Headers(_first_wins(raw), url)


def parse_header_lines(block: bytes, limits: Limits) -> RawHeaders:
    """``Key: Value`` lines (no empty line) → raw pairs; values not yet decoded.

    A well-formed block (FreeSWITCH's connect reply and events carry ~170 lines) is checked by
    one regular expression over the whole block and then split; only a block that fails it is
    walked line by line, to name the first bad line."""
    lines = block.split(b"\n")
    if len(lines) > limits.max_headers:
        raise EslProtocolError("too-many-headers", f"{len(lines)} headers > {limits.max_headers}")
    if _BLOCK.fullmatch(block):
        return _split(lines)
    pairs: RawHeaders = []
    for number, line in enumerate(lines, start=1):
        key, colon, value = line.partition(b":")
        if not colon:
            raise EslProtocolError("missing-colon", f"header line {number} has no colon")
        if not _KEY.fullmatch(key):
            raise EslProtocolError("bad-header", f"header line {number}: bad name {key[:40]!r}")
        value = value.lstrip(b" ")
        if _CONTROL.search(value):
            raise EslProtocolError("bad-header", f"header {key[:40]!r}: control byte in value")
        pairs.append((key.decode("ascii"), value))
    return pairs


def _split(lines: list[bytes]) -> RawHeaders:
    """The lines of a block that matched ``_BLOCK`` → raw pairs."""
    return [
        (key.decode("ascii"), value.lstrip(b" "))
        for key, _, value in (line.partition(b":") for line in lines)
    ]


def _content_length(block: bytes, limits: Limits) -> int:
    """The first ``Content-Length`` (any case) of a block that passed
    :func:`parse_header_lines`, found without walking its lines."""
    end = block.find(b"\n")
    first_line = block if end < 0 else block[:end]
    found = _CONTENT_LENGTH.match(b"\n" + first_line) or _CONTENT_LENGTH.search(block)
    if found is None:
        return 0
    value = found[1]
    if not _DIGITS.fullmatch(value):
        raise EslProtocolError("bad-content-length", f"Content-Length {value[:20]!r}")
    length = int(value)
    if length > limits.max_body_bytes:
        raise EslProtocolError("too-large", f"body of {length} bytes > {limits.max_body_bytes}")
    return length


def _raw_value(block: bytes, key: bytes) -> bytes | None:
    """The first ``key`` line's raw value in a block that matched ``_BLOCK``: every ``\\n``
    starts a line and a name holds no colon, so the first line that starts with ``key:`` is
    the first ``key`` header."""
    if block.startswith(key + b":"):
        start = len(key) + 1
    else:
        at = block.find(b"\n" + key + b":")
        if at < 0:
            return None
        start = at + len(key) + 2
    end = block.find(b"\n", start)
    return block[start : len(block) if end < 0 else end].lstrip(b" ")


class _BlockHeaders(Mapping[str, str]):
    """The headers of a checked, URL-encoded block (an event's, a dump's), each found by a
    search of the block when first read: an event carries hundreds of them and the session
    reads a handful, so splitting them all cost more than the searches. Iterating splits
    them once."""

    __slots__ = ("_block", "_decoded", "_raw")

    def __init__(self, block: bytes) -> None:
        self._block = block
        self._decoded: dict[str, str] = {}
        self._raw: dict[str, bytes] | None = None

    def __getitem__(self, key: str) -> str:
        try:
            return self._decoded[key]
        except KeyError:
            pass
        raw = _raw_value(self._block, key.encode("ascii")) if _KEY_TEXT.fullmatch(key) else None
        if raw is None:
            raise KeyError(key)
        value = self._decoded[key] = _text(raw, url=True)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._split())

    def __len__(self) -> int:
        return len(self._split())

    def _split(self) -> dict[str, bytes]:
        if self._raw is None:
            self._raw = _first_wins(_split(self._block.split(b"\n")))
        return self._raw


def _check_block(block: bytes, limits: Limits) -> None:
    """Raise what :func:`parse_header_lines` would, without splitting a clean block."""
    if block.count(b"\n") >= limits.max_headers or not _BLOCK.fullmatch(block):
        parse_header_lines(block, limits)


def parse_event(body: bytes, limits: Limits) -> Event:
    """A ``text/event-plain`` body → :class:`Event`, its values found and decoded when read."""
    head, blank, rest = body.partition(b"\n\n")
    if not blank:
        raise EslProtocolError("bad-event", "event headers not ended by an empty line")
    _check_block(head, limits)
    length = _content_length(head, limits)
    if len(rest) != length:
        raise EslProtocolError("bad-event", f"event body of {len(rest)} bytes, expected {length}")
    headers = _BlockHeaders(head)
    name = headers.get("Event-Name", "")
    if not name:
        raise EslProtocolError("bad-event", "event without Event-Name")
    return Event(name, headers, _text(rest, url=False))


def parse_dump(text: str, limits: Limits) -> Mapping[str, str]:
    """``uuid_dump``'s output → its headers, found and decoded when read, as an event's:
    ``switch_event_serialize`` with URL encoding, the same lines as a ``connect`` reply
    (without the ``Channel-*`` caller profile copy and the reply's own headers)."""
    block = text.encode("utf-8").strip(b"\n")
    if not block:
        raise EslProtocolError("bad-dump", "uuid_dump returned nothing")
    _check_block(block, limits)
    return _BlockHeaders(block)


def build_frame(raw: RawHeaders, body: bytes, limits: Limits) -> Frame:
    envelope = dict(raw)
    content_type = envelope.get("Content-Type", b"").decode("ascii")
    if content_type == "command/reply":
        headers = _headers(raw, url="Event-Name" in envelope)
        if "Reply-Text" not in headers:
            raise EslProtocolError("bad-reply", "command/reply without Reply-Text")
        return CommandReply(headers["Reply-Text"].strip(), headers)
    if content_type == "api/response":
        return ApiResponse(_text(body, url=False))
    if content_type == "text/event-plain":
        return parse_event(body, limits)
    if content_type == "text/disconnect-notice":
        disposition = _text(envelope.get("Content-Disposition", b"disconnect"), url=False)
        return DisconnectNotice(disposition, _text(body, url=False))
    raise EslProtocolError("content-type", f"unexpected Content-Type {content_type[:40]!r}")


class EslParser:
    """Feed bytes as they arrive; take frames with :meth:`frames`. After an error every call
    raises it again: the connection is out of step and must end."""

    def __init__(self, limits: Limits | None = None) -> None:
        self._limits = limits or Limits()
        self._buffer = bytearray()
        self._scanned = 0
        self._envelope: RawHeaders | None = None
        self._body_length = 0
        self._error: EslProtocolError | None = None

    def feed(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._buffer += data

    def frames(self) -> Iterator[Frame]:
        while (frame := self.next_frame()) is not None:
            yield frame

    def next_frame(self) -> Frame | None:
        if self._error is not None:
            raise self._error
        try:
            return self._step()
        except EslProtocolError as exc:
            self._error = exc
            self._buffer.clear()
            raise

    def _step(self) -> Frame | None:
        if self._envelope is None:
            block = self._take_block()
            if block is None:
                return None
            if not block:
                raise EslProtocolError("bad-header", "empty header block")
            self._envelope = parse_header_lines(block, self._limits)
            self._body_length = _content_length(block, self._limits)
        if len(self._buffer) < self._body_length:
            return None
        body = bytes(self._buffer[: self._body_length])
        del self._buffer[: self._body_length]
        envelope, self._envelope = self._envelope, None
        return build_frame(envelope, body, self._limits)

    def _take_block(self) -> bytes | None:
        """The next header block without its empty line, or None while it is incomplete."""
        if self._buffer[:1] == b"\n":
            del self._buffer[:1]
            return b""
        end = self._buffer.find(b"\n\n", max(self._scanned - 1, 0))
        limit = self._limits.max_header_bytes
        if end < 0:
            self._scanned = len(self._buffer)
            if self._scanned > limit:
                raise EslProtocolError("too-large", f"header block over {limit} bytes")
            return None
        if end > limit:
            raise EslProtocolError("too-large", f"header block over {limit} bytes")
        block = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        self._scanned = 0
        return block

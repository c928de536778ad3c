"""FastAGI wire protocol, without sockets: header block in, typed request out; replies in, typed
reply out; one quoting function for everything we send.

What Asterisk sends (``res/res_agi.c``: ``launch_netscript`` then ``setup_env``): ``agi_network:
yes``, ``agi_network_script: <path after host/>``, then ``agi_request`` … ``agi_threadid`` and
``agi_arg_N`` lines, each ``key: value\\n``, ended by an empty line. Channel data (the caller name
above all) is copied in unescaped and in whatever bytes the peer sent, so values are decoded with
replacement characters and every control byte is refused. Replies are one line (``200 result=N``,
``510``, ``511``) or a ``520-`` … ``520 `` block, and Asterisk may interject ``HANGUP`` at any time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_MAX_HEADER_BYTES = 16384
MAX_USAGE_LINES = 200
REQUIRED_KEYS = ("agi_request", "agi_channel", "agi_uniqueid", "agi_callerid", "agi_callingpres")

_KEY = re.compile(rb"agi_[A-Za-z0-9_]+")
_ARG_KEY = re.compile(r"agi_arg_([1-9][0-9]{0,3})")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_VERB = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_SUCCESS = re.compile(r"200 result=(-?[0-9]+)(?: (.*))?")
_EXTRA = re.compile(r"\(([^)]*)\)")


class AgiProtocolError(ValueError):
    """The peer broke the protocol. ``kind`` is a stable tag for alerting; the message says what
    was wrong and where (key, line number)."""

    def __init__(self, kind: str, message: str, line_no: int | None = None) -> None:
        self.kind = kind
        self.line_no = line_no
        where = f"line {line_no}: " if line_no is not None else ""
        super().__init__(f"{where}{message}")


class HeaderError(AgiProtocolError):
    """The header block cannot be trusted; the call must be denied."""


class ReplyError(AgiProtocolError):
    """A reply line that is not AGI."""


@dataclass(frozen=True, slots=True)
class AgiRequest:
    """One FastAGI request. ``raw`` holds every ``agi_*`` key, including ones we do not know."""

    network_script: str
    request: str
    uniqueid: str
    channel: str
    callerid: str
    calleridname: str
    callingpres: int
    accountcode: str
    extension: str
    context: str
    args: tuple[str, ...]
    raw: Mapping[str, str] = field(repr=False)

    @property
    def route(self) -> str:
        """``outbound`` for ``agi://host:4573/outbound`` (query string and slashes stripped)."""
        return self.network_script.partition("?")[0].strip("/")

    def arg(self, n: int) -> str:
        """``agi_arg_<n>`` (1-based), or ``""`` when the dialplan did not pass it."""
        return self.args[n - 1] if 0 < n <= len(self.args) else ""


class HeaderParser:
    """Feed the header block one line at a time (each ending in ``\\n``), or whole
    (:meth:`feed_block`); the line that ends the block returns the request. Raises
    :class:`HeaderError` on the first broken rule. A CR is a control character like any other:
    Asterisk ends lines with LF only."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> None:
        self._max_bytes = max_bytes
        self._size = 0
        self._line_no = 0
        self._values: dict[str, str] = {}
        self.finished = False
        """True once the empty line ending the block has been read (even if it was invalid)."""

    def feed_block(self, block: bytes) -> AgiRequest:
        """The block as read up to its first blank line (``…\\n\\n``): one read instead of one
        per line. After an error :attr:`finished` is true, since the whole block has been read,
        except when the block was empty: then what was read after it belongs to no block."""
        lines = block.split(b"\n")[:-1]
        if lines[0] == b"":
            raise HeaderError("missing-key", "empty header block", 1)
        try:
            for line in lines[:-1]:
                self.feed_line(line + b"\n")
            request = self.feed_line(b"\n")
        finally:
            self.finished = True
        assert request is not None, "the blank line ends the block"
        return request

    def feed_line(self, line: bytes) -> AgiRequest | None:
        self._line_no += 1
        self._size += len(line)
        if self._size > self._max_bytes:
            raise HeaderError(
                "too-large", f"header block exceeds {self._max_bytes} bytes", self._line_no
            )
        body = line.removesuffix(b"\n")  # Asterisk ends lines with LF only; a CR is data
        if not body:
            self.finished = True
            return _build_request(self._values)
        key_bytes, sep, value_bytes = body.partition(b": ")
        if _CONTROL.search(body):
            where = repr(key_bytes.decode()) if sep and _KEY.fullmatch(key_bytes) else "line"
            raise HeaderError("control-char", f"control character in {where}", self._line_no)
        if not sep or not _KEY.fullmatch(key_bytes):
            raise HeaderError("malformed-line", "expected 'agi_<key>: <value>'", self._line_no)
        key = key_bytes.decode("ascii")
        if key in self._values:
            raise HeaderError("duplicate-key", f"duplicate key {key!r}", self._line_no)
        self._values[key] = value_bytes.decode("utf-8", errors="replace")
        return None


def parse_header_block(data: bytes, max_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> AgiRequest:
    """Parse one complete header block (ending with the empty line and nothing after it)."""
    parser = HeaderParser(max_bytes)
    lines = data.split(b"\n")
    for index, line in enumerate(lines[:-1]):
        request = parser.feed_line(line + b"\n")
        if request is not None:
            if index != len(lines) - 2 or lines[-1]:
                raise HeaderError("trailing-data", "data after the end of the header block")
            return request
    raise HeaderError("unterminated", "header block does not end with an empty line")


def _build_request(values: dict[str, str]) -> AgiRequest:
    for key in REQUIRED_KEYS:
        if key not in values:
            raise HeaderError("missing-key", f"missing key {key!r}")
    pres = values["agi_callingpres"]
    if not pres.isascii() or not pres.isdigit():
        raise HeaderError("bad-value", f"agi_callingpres is not a number: {pres[:20]!r}")
    numbered = {}
    for key, value in values.items():
        match = _ARG_KEY.fullmatch(key)
        if match:
            numbered[int(match.group(1))] = value
        elif key.startswith("agi_arg_"):
            raise HeaderError("bad-value", f"bad argument key {key!r}")
    if sorted(numbered) != list(range(1, len(numbered) + 1)):
        raise HeaderError("bad-value", "agi_arg_N keys are not numbered 1..N")
    return AgiRequest(
        network_script=values.get("agi_network_script", ""),
        request=values["agi_request"],
        uniqueid=values["agi_uniqueid"],
        channel=values["agi_channel"],
        callerid=values["agi_callerid"],
        calleridname=values.get("agi_calleridname", ""),
        callingpres=int(pres),
        accountcode=values.get("agi_accountcode", ""),
        extension=values.get("agi_extension", ""),
        context=values.get("agi_context", ""),
        args=tuple(numbered[n] for n in sorted(numbered)),
        raw=MappingProxyType(dict(values)),
    )


@dataclass(frozen=True, slots=True)
class AgiReply:
    """``code`` 200/510/511/520. For 200, ``result`` is N, ``data`` the rest of the line and
    ``extra`` the text in the first parentheses. ``hangup`` is true when Asterisk sent an
    unsolicited ``HANGUP`` before this reply."""

    code: int
    text: str
    result: int | None = None
    data: str = ""
    extra: str = ""
    usage: tuple[str, ...] = ()
    hangup: bool = False


class ReplyParser:
    """Feed reply lines one at a time; the line that completes a reply returns it."""

    def __init__(self) -> None:
        self._hangup = False
        self._usage: list[str] | None = None
        self._line_no = 0

    def feed_line(self, line: bytes) -> AgiReply | None:
        self._line_no += 1
        text = line.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")
        if self._usage is not None:
            if text.startswith("520 "):
                return AgiReply(520, text[4:], usage=tuple(self._usage), hangup=self._hangup)
            if len(self._usage) >= MAX_USAGE_LINES:
                raise ReplyError("bad-reply", "520 usage block too long", self._line_no)
            self._usage.append(text)
            return None
        if text == "HANGUP":
            self._hangup = True
            return None
        if text.startswith("520-"):
            self._usage = []
            return None
        success = _SUCCESS.fullmatch(text)
        if success:
            data = success.group(2) or ""
            extra = _EXTRA.search(data)
            return AgiReply(
                200,
                text[4:],
                result=int(success.group(1)),
                data=data,
                extra=extra.group(1) if extra else "",
                hangup=self._hangup,
            )
        code, sep, rest = text.partition(" ")
        if sep and code in {"510", "511", "520"}:
            return AgiReply(int(code), rest, hangup=self._hangup)
        raise ReplyError("bad-reply", f"not an AGI reply: {text[:80]!r}", self._line_no)


def quote(arg: str) -> str:
    """The only way an argument goes on the wire: ``"`` and ``\\`` escaped, wrapped in quotes.
    CR, LF and NUL cannot be escaped in AGI (a command ends at the newline) and are refused."""
    if any(ch in arg for ch in "\r\n\0"):
        raise ValueError("AGI argument contains CR, LF or NUL")
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command(verb: str, *args: str) -> str:
    """``command("EXEC", "MSet", "A=1")`` → ``EXEC "MSet" "A=1"`` (no line ending)."""
    if not _VERB.fullmatch(verb):
        raise ValueError(f"not an AGI command verb: {verb!r}")
    return " ".join([verb, *(quote(arg) for arg in args)])

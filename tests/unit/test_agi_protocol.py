from __future__ import annotations

from pathlib import Path

import pytest

from dialguard.agi.protocol import (
    AgiReply,
    HeaderError,
    HeaderParser,
    ReplyError,
    ReplyParser,
    command,
    parse_header_block,
    quote,
)
from dialguard.agi.testing import REPLY_USAGE, header_block, split_args

FIXTURES = Path(__file__).parent.parent / "fixtures" / "agi"


def _error(data: bytes, max_bytes: int = 16384) -> HeaderError:
    with pytest.raises(HeaderError) as info:
        parse_header_block(data, max_bytes)
    return info.value


def test_recorded_outbound_block_parses() -> None:
    request = parse_header_block((FIXTURES / "asterisk22-outbound.headers").read_bytes())
    assert request.route == "outbound"
    assert request.request == "agi://127.0.0.1:4573/outbound"
    assert request.uniqueid == "1754470012.7"
    assert request.channel == "PJSIP/agent-1001-00000007"
    assert request.callerid == "01088886666"
    assert request.calleridname == "Agent 1001"
    assert request.callingpres == 0
    assert request.accountcode == "acme"
    assert request.extension == "13800138000"
    assert request.context == "dialguard-outbound"
    assert request.args == ("13800138000", "acme", "callback")
    assert request.raw["agi_threadid"] == "139872345990848"
    assert request.arg(1) == "13800138000"
    assert request.arg(4) == ""


def test_recorded_inbound_block_parses() -> None:
    request = parse_header_block((FIXTURES / "asterisk22-inbound-anonymous.headers").read_bytes())
    assert (request.route, request.callerid, request.callingpres) == ("inbound", "anonymous", 35)
    assert request.accountcode == ""
    assert request.args == ("4008001234",)


def test_every_fixture_parses() -> None:
    files = sorted(FIXTURES.glob("*.headers"))
    assert files
    for path in files:
        assert parse_header_block(path.read_bytes()).uniqueid


def test_request_is_immutable() -> None:
    request = parse_header_block(header_block())
    with pytest.raises(AttributeError):
        request.callerid = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        request.raw["agi_callerid"] = "x"  # type: ignore[index]


def test_route_strips_query_and_slashes() -> None:
    assert parse_header_block(header_block("outbound/?x=1")).route == "outbound"


def test_missing_script_gives_empty_route() -> None:
    block = header_block().replace(b"agi_network_script: outbound\n", b"")
    assert parse_header_block(block).route == ""


def test_unknown_agi_keys_are_kept() -> None:
    request = parse_header_block(header_block(extra=[("agi_callingtns2", "7")]))
    assert request.raw["agi_callingtns2"] == "7"


def test_cr_is_a_control_character_even_before_lf() -> None:
    assert _error(header_block().replace(b"\n", b"\r\n")).kind == "control-char"
    assert _error(header_block(calleridname=b"Eve\r")).line_no == 10


def test_duplicate_key_is_refused_naming_key_and_line() -> None:
    error = _error(header_block(extra=[("agi_callerid", "01000000000")]))
    assert error.kind == "duplicate-key"
    assert "agi_callerid" in str(error)
    assert error.line_no == 26


@pytest.mark.parametrize(
    "line", [b"agi_callerid=123", b"callerid: 123", b"agi_: x", b"agi_callerid:123", b"garbage"]
)
def test_malformed_line_is_refused(line: bytes) -> None:
    error = _error(b"agi_network: yes\n" + line + b"\n\n")
    assert (error.kind, error.line_no) == ("malformed-line", 2)


@pytest.mark.parametrize("byte", [b"\x00", b"\x01", b"\t", b"\r", b"\x1b", b"\x7f"])
def test_control_characters_are_refused(byte: bytes) -> None:
    error = _error(header_block(calleridname=b"Eve" + byte + b"agi_x: 1"))
    assert error.kind == "control-char"
    assert error.line_no == 10
    assert "'agi_calleridname'" in str(error)


def test_invalid_utf8_caller_name_is_replaced_not_refused() -> None:
    name = b'\xe5\xbc\xa0\xff\xfe "quote" \\slash'
    request = parse_header_block(header_block(calleridname=name))
    assert request.calleridname == '张\ufffd\ufffd "quote" \\slash'


def test_size_limit() -> None:
    block = header_block(extra=[("agi_padding", "x" * 2000)])
    assert parse_header_block(block, max_bytes=len(block)).uniqueid
    assert _error(block, max_bytes=len(block) - 1).kind == "too-large"


def test_unterminated_block() -> None:
    assert _error(header_block(terminated=False)).kind == "unterminated"


def test_trailing_data_after_block() -> None:
    assert _error(header_block() + b"agi_x: y\n").kind == "trailing-data"


def test_missing_required_key() -> None:
    error = _error(header_block().replace(b"agi_uniqueid: 1754470000.7\n", b""))
    assert error.kind == "missing-key"
    assert "agi_uniqueid" in str(error)


@pytest.mark.parametrize("value", ["", "abc", "-1", "0x20", "٣"])
def test_callingpres_must_be_a_number(value: str) -> None:
    block = header_block().replace(b"agi_callingpres: 0", f"agi_callingpres: {value}".encode())
    assert _error(block).kind == "bad-value"


def test_args_must_be_numbered_from_one() -> None:
    assert _error(header_block(args=(), extra=[("agi_arg_2", "x")])).kind == "bad-value"
    assert _error(header_block(args=(), extra=[("agi_arg_x", "x")])).kind == "bad-value"


def test_args_are_ordered_by_number() -> None:
    extra = [(f"agi_arg_{n}", str(n)) for n in (2, 10, 1, 3, 4, 5, 6, 7, 8, 9)]
    assert parse_header_block(header_block(args=(), extra=extra)).args == tuple(
        str(n) for n in range(1, 11)
    )


def test_incremental_parser_returns_on_empty_line_only() -> None:
    parser = HeaderParser()
    lines = header_block().split(b"\n")[:-1]
    results = [parser.feed_line(line + b"\n") for line in lines]
    assert all(result is None for result in results[:-1])
    assert results[-1] is not None
    assert parser.finished


def test_block_parser_reads_what_the_line_parser_reads() -> None:
    block = (FIXTURES / "asterisk22-outbound.headers").read_bytes()
    parser = HeaderParser()
    assert parser.feed_block(block) == parse_header_block(block)
    assert parser.finished


def test_block_parser_error_mid_block_leaves_the_block_finished() -> None:
    """The whole block was read: the next line is the reply to the denial, so it is awaited."""
    block = header_block(extra=[("agi_bad", "a\x01b")])
    parser = HeaderParser()
    with pytest.raises(HeaderError) as info:
        parser.feed_block(block)
    assert info.value.kind == "control-char"
    assert parser.finished


def test_block_parser_empty_block_is_out_of_step() -> None:
    """An empty first line ends an empty block; what the read brought after it belongs to no
    block, so no reply can be matched to the denial."""
    parser = HeaderParser()
    with pytest.raises(HeaderError) as info:
        parser.feed_block(b"\nagi_request: x\n\n")
    assert info.value.kind == "missing-key"
    assert not parser.finished


def _reply(*lines: str) -> tuple[AgiReply | None, ...]:
    parser = ReplyParser()
    return tuple(parser.feed_line(line.encode() + b"\n") for line in lines)


def test_reply_success() -> None:
    (reply,) = _reply("200 result=0")
    assert reply == AgiReply(200, "result=0", result=0)


def test_reply_success_with_data_and_extra() -> None:
    (reply,) = _reply("200 result=1 (timeout) endpos=1234")
    assert reply is not None
    assert (reply.result, reply.data, reply.extra) == (1, "(timeout) endpos=1234", "timeout")
    (reply,) = _reply("200 result=-1")
    assert reply is not None and reply.result == -1


def test_reply_errors() -> None:
    assert _reply("510 Invalid or unknown command")[0] == AgiReply(
        510, "Invalid or unknown command"
    )
    (dead,) = _reply("511 Command Not Permitted on a dead channel or intercept routine")
    assert dead is not None and dead.code == 511
    (single,) = _reply("520 Invalid command syntax.  Proper usage not available.")
    assert single is not None and single.code == 520


def test_reply_multiline_usage() -> None:
    *pending, reply = _reply(*REPLY_USAGE)
    assert pending == [None] * (len(REPLY_USAGE) - 1)
    assert reply is not None
    assert reply.code == 520
    assert reply.usage == REPLY_USAGE[1:-1]


def test_hangup_before_reply_is_not_the_reply() -> None:
    hangup, reply = _reply("HANGUP", "200 result=0")
    assert hangup is None
    assert reply is not None and reply.hangup and reply.code == 200


@pytest.mark.parametrize("line", ["", "200 result=x", "agi_network: yes", "300 what", "HANGUPX"])
def test_garbage_reply_is_refused(line: str) -> None:
    with pytest.raises(ReplyError):
        _reply(line)


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ("plain", '"plain"'),
        ("", '""'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ('\\"', '"\\\\\\""'),
        ("a,b c\t$", '"a,b c\t$"'),
    ],
)
def test_quote(raw: str, quoted: str) -> None:
    assert quote(raw) == quoted
    assert split_args(f"EXEC Noop {quote(raw)}") == ["EXEC", "Noop", raw]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b", "\n"])
def test_quote_refuses_line_breaks_and_nul(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        quote(bad)


def test_command_quotes_every_argument() -> None:
    assert command("EXEC", "MSet", 'A="1"') == 'EXEC "MSet" "A=\\"1\\""'
    assert command("SET VARIABLE", "X", "y z") == 'SET VARIABLE "X" "y z"'
    with pytest.raises(ValueError, match="verb"):
        command("EXEC\nHANGUP")

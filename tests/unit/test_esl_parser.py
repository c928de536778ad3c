from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from dialguard.esl.parser import (
    ApiResponse,
    CommandReply,
    DisconnectNotice,
    EslParser,
    EslProtocolError,
    Event,
    Frame,
    Limits,
    Reply,
    parse_dump,
    parse_event,
    parse_header_lines,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "esl"
TRANSCRIPTS = [
    "uuid-dump.esl",
    "uuid-dump-privacy-user.esl",
    "session-allow-recorded.esl",
    "session-deny.esl",
    "session-callee-keypad.esl",
]


def parse(
    data: bytes, chunks: list[int] | None = None, limits: Limits | None = None
) -> list[Frame]:
    parser = EslParser(limits)
    frames: list[Frame] = []
    sizes = iter(chunks or [len(data)])
    offset = 0
    while offset < len(data):
        size = next(sizes, len(data))
        parser.feed(data[offset : offset + size])
        offset += size
        frames.extend(parser.frames())
    return frames


def error_of(call: Callable[[], object]) -> EslProtocolError:
    with pytest.raises(EslProtocolError) as info:
        call()
    return info.value


def error(data: bytes, limits: Limits | None = None) -> EslProtocolError:
    with pytest.raises(EslProtocolError) as info:
        parse(data, limits=limits)
    return info.value


def test_uuid_dump_carries_the_decoded_channel_data() -> None:
    [frame] = parse((FIXTURES / "uuid-dump.esl").read_bytes())
    assert isinstance(frame, ApiResponse) and frame.ok
    headers = parse_dump(frame.body, Limits())
    assert len(headers) > 120  # FreeSWITCH 1.11.1 sends every channel variable
    assert headers["Event-Name"] == "CHANNEL_DATA"
    assert headers["Event-Date-Local"] == "2026-12-06 04:17:12"
    assert headers["FreeSWITCH-IPv6"] == "fd00::2"
    assert headers["Caller-Caller-ID-Number"] == "01088886666"
    assert headers["Answer-State"] == "ringing"
    assert headers["variable_current_application_data"].endswith(" async full")
    assert headers["variable_dialguard_tenant"] == "acme"
    assert "Reply-Text" not in headers and "Channel-Caller-ID-Number" not in headers


def test_a_dump_that_is_no_header_block_is_a_protocol_error() -> None:
    assert error_of(lambda: parse_dump("\n\n", Limits())).kind == "bad-dump"
    assert error_of(lambda: parse_dump("-ERR No such channel!\n", Limits())).kind == (
        "missing-colon"
    )


def test_recorded_session_gives_the_frames_freeswitch_sent() -> None:
    """FreeSWITCH's side of an allowed, recorded call, as it sent it (see the README here):
    nothing for ``linger``, the uuid, the dump, four ``+OK`` (two filters, two subscriptions),
    two ``api`` ``+OK`` (variables, transfer), then the callee leg's and our events."""
    frames = parse((FIXTURES / "session-allow-recorded.esl").read_bytes())
    uuid, dump, *replies = frames[:8]
    assert (
        isinstance(uuid, CommandReply) and uuid.reply_text == "96454479-24e1-49fd-8748-afa8f293bcaa"
    )
    assert isinstance(dump, ApiResponse)
    assert parse_dump(dump.body, Limits())["Unique-ID"] == uuid.reply_text
    assert [f.reply_text.split(".")[0] for f in replies if isinstance(f, Reply)] == [
        "+OK filter added",
        "+OK filter added",
        "+OK event listener enabled plain",
        "+OK event listener enabled plain",
        "+OK\n",
        "+OK\n",
    ]
    ours = [f for f in frames[8:] if isinstance(f, Event) and f.get("Unique-ID") == uuid.reply_text]
    stop, done = ours[-2:]
    assert isinstance(frames[-1], DisconnectNotice) and not frames[-1].lingering
    assert any(isinstance(f, DisconnectNotice) and f.lingering for f in frames)
    assert stop.name == "RECORD_STOP"
    assert stop.get("Record-File-Path").endswith(".wav")
    assert "/dg-" in stop.get("Record-File-Path")
    assert done.name == "CHANNEL_HANGUP_COMPLETE"
    assert done.get("Hangup-Cause") == "NORMAL_CLEARING"
    assert done.get("Caller-Channel-Answered-Time") == "1796530633102477"


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_byte_by_byte_and_random_chunks_give_the_same_frames(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    whole = parse(data)
    assert parse(data, [1] * len(data)) == whole
    rng = random.Random(name)
    assert parse(data, [rng.randint(1, 700) for _ in range(len(data))]) == whole


def test_deny_session_ends_with_the_disconnect_notice() -> None:
    frames = parse((FIXTURES / "session-deny.esl").read_bytes())
    done = next(f for f in frames if isinstance(f, Event) and f.name == "CHANNEL_HANGUP_COMPLETE")
    assert done.get("Hangup-Cause") == "OUTGOING_CALL_BARRED"
    last = frames[-1]
    assert isinstance(last, DisconnectNotice) and not last.lingering
    assert last.message.startswith("Disconnected, goodbye.")


def test_event_values_are_percent_decoded_and_bad_utf8_replaced() -> None:
    body = b"Event-Name: CUSTOM\nCaller-Caller-ID-Name: %E5%BC%A0%FF%0Ax\nEmpty: _undef_\n\n"
    [event] = parse(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    assert isinstance(event, Event)
    assert event.get("Caller-Caller-ID-Name") == "张\ufffd\nx"
    assert event.body == ""


def test_event_with_a_body_of_its_own() -> None:
    body = b"Event-Name: BACKGROUND_JOB\nContent-Length: 4\n\n+OK\n"
    [event] = parse(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    assert isinstance(event, Event) and event.body == "+OK\n"


def test_api_response_and_error_reply() -> None:
    frames = parse(
        b"Content-Type: api/response\nContent-Length: 5\n\n-ERR\n"
        b"Content-Type: command/reply\nReply-Text: -ERR command not found\n\n"
    )
    api, refused = frames
    assert api == ApiResponse("-ERR\n") and not api.ok
    assert isinstance(refused, CommandReply)
    assert (refused.reply_text, refused.ok) == ("-ERR command not found", False)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"Content-Type command/reply\n\n", "missing-colon"),
        (b"\x00\xff\xfe: x\n\n", "bad-header"),
        (b"Content-Type: command/reply\nReply-Text: +OK\x01\n\n", "bad-header"),
        (b"\n", "bad-header"),
        (b"Content-Type: api/response\nContent-Length: -1\n\n", "bad-content-length"),
        (b"Content-Type: api/response\nContent-Length: 12345678901\n\n", "bad-content-length"),
        (b"Content-Type: api/response\nContent-Length: 9x\n\n", "bad-content-length"),
        (b"Content-Type: text/rude-rejection\n\n", "content-type"),
        (b"Content-Type: command/reply\n\n", "bad-reply"),
        (b"Content-Length: 12\nContent-Type: text/event-plain\n\nNo-Name: x\n\n", "bad-event"),
        (b"Content-Length: 10\nContent-Type: text/event-plain\n\nA: b\nC: d\n", "bad-event"),
    ],
)
def test_malformed_frames_raise_typed_errors(data: bytes, kind: str) -> None:
    assert error(data).kind == kind


def test_limits_on_block_size_header_count_and_body() -> None:
    limits = Limits(max_header_bytes=64, max_headers=3, max_body_bytes=10)
    assert error(b"X-Long: " + b"a" * 100, limits).kind == "too-large"  # no end in sight
    assert error(b"X-Long: " + b"a" * 100 + b"\n\n", limits).kind == "too-large"
    assert error(b"A: 1\nB: 2\nC: 3\nD: 4\n\n", limits).kind == "too-many-headers"
    big = b"Content-Type: api/response\nContent-Length: 11\n\n"
    assert error(big, limits).kind == "too-large"


def test_an_error_is_sticky() -> None:
    parser = EslParser()
    parser.feed(b"garbage\n\n")
    with pytest.raises(EslProtocolError):
        parser.next_frame()
    with pytest.raises(EslProtocolError):
        parser.feed(b"Content-Type: command/reply\nReply-Text: +OK\n\n")


def event_frame(body: bytes) -> bytes:
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body


@pytest.mark.parametrize("name", [n for n in TRANSCRIPTS if n.startswith("session-")])
def test_event_headers_read_one_by_one_equal_the_whole_split(name: str) -> None:
    """Events' headers are found when read, by a search of the block: every header read that
    way, and the mapping as a whole, equal the block split line by line (first one wins)."""
    bodies = event_bodies((FIXTURES / name).read_bytes())
    assert bodies
    for body in bodies:
        event = parse_event(body, Limits())
        split: dict[str, str] = {}
        for key, value in parse_header_lines(body.partition(b"\n\n")[0], Limits()):
            split.setdefault(key, unquote_to_bytes(value).decode("utf-8", errors="replace"))
        assert len(split) > 50
        assert {key: event.get(key) for key in split} == split
        assert dict(event.headers) == split
        assert len(event.headers) == len(split)


def event_bodies(data: bytes) -> list[bytes]:
    """The ``text/event-plain`` bodies of a transcript, cut by their envelopes."""
    bodies = []
    while data:
        block, _, data = data.partition(b"\n\n")
        envelope = dict(parse_header_lines(block, Limits()))
        length = int(envelope.get("Content-Length", b"0"))
        if envelope["Content-Type"] == b"text/event-plain":
            bodies.append(data[:length])
        data = data[length:]
    return bodies


def test_a_header_is_found_by_its_whole_name_at_the_start_of_a_line() -> None:
    body = (
        b"Event-Name: CUSTOM\nX-Unique-ID: prefixed\nvariable_note: Unique-ID: inside\n"
        b"Unique-ID:   first\nUnique-ID: second\nLast:no-blank"
    ) + b"\n\n"
    [event] = parse(event_frame(body))
    assert isinstance(event, Event)
    assert event.get("Unique-ID") == "first"
    assert event.get("X-Unique-ID") == "prefixed"
    assert event.get("variable_note") == "Unique-ID: inside"
    assert event.get("Last") == "no-blank"
    for absent in ("Unique", "unique-id", "ID", "Unique-ID:", "Bad Key", "Événement", ""):
        assert event.get(absent, "none") == "none"
        assert absent not in event.headers
    assert list(event.headers) == [
        "Event-Name",
        "X-Unique-ID",
        "variable_note",
        "Unique-ID",
        "Last",
    ]


def test_an_events_content_length_is_its_first_in_any_case() -> None:
    body = b"Event-Name: CUSTOM\ncontent-LENGTH: 4\nContent-Length: 9\n\nbody"
    [event] = parse(event_frame(body))
    assert isinstance(event, Event) and event.body == "body"
    first_line = b"CONTENT-LENGTH:2\nEvent-Name: CUSTOM\n\nok"
    [event] = parse(event_frame(first_line))
    assert isinstance(event, Event) and event.body == "ok"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"Event-Name: CUSTOM\nUnread: bad\x01value\n\n", "bad-header"),
        (b"Event-Name: CUSTOM\nno colon here\n\n", "missing-colon"),
        (b"Event-Name: CUSTOM\nBad Name: x\n\n", "bad-header"),
        (b"Event-Name: CUSTOM\nContent-Length: 4x\n\nbody", "bad-content-length"),
        (b"Event-Name: CUSTOM\nA: 1\nB: 2\n\n", "too-many-headers"),
        (b"Event-Name:    \nA: 1\n\n", "bad-event"),
    ],
)
def test_an_event_is_checked_whole_though_its_headers_are_read_lazily(
    body: bytes, kind: str
) -> None:
    """Headers nobody reads are still checked when the event arrives."""
    assert error(event_frame(body), Limits(max_headers=2)).kind == kind


@pytest.mark.parametrize("name", ["uuid-dump.esl", "uuid-dump-privacy-user.esl"])
def test_dump_headers_read_one_by_one_equal_the_whole_split(name: str) -> None:
    [dump] = parse((FIXTURES / name).read_bytes())
    assert isinstance(dump, ApiResponse)
    headers = parse_dump(dump.body, Limits())
    split: dict[str, str] = {}
    for key, value in parse_header_lines(dump.body.encode().strip(b"\n"), Limits()):
        split.setdefault(key, unquote_to_bytes(value).decode("utf-8", errors="replace"))
    assert len(split) > 100
    assert {key: headers[key] for key in split} == split
    assert dict(headers) == split

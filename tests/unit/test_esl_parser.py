from __future__ import annotations

import random
from pathlib import Path

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
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "esl"
TRANSCRIPTS = [
    "connect-reply.esl",
    "connect-reply-privacy-user.esl",
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


def error(data: bytes, limits: Limits | None = None) -> EslProtocolError:
    with pytest.raises(EslProtocolError) as info:
        parse(data, limits=limits)
    return info.value


def test_connect_reply_carries_the_decoded_channel_data() -> None:
    [frame] = parse((FIXTURES / "connect-reply.esl").read_bytes())
    assert isinstance(frame, CommandReply)
    assert frame.ok and frame.reply_text == "+OK"
    assert frame.headers["Reply-Text"] == "+OK\n"
    assert len(frame.headers) > 150  # FreeSWITCH 1.11.1 sends every channel variable
    assert frame.headers["Event-Date-Local"] == "2026-12-05 07:37:06"
    assert frame.headers["FreeSWITCH-IPv6"] == "fd00::2"
    assert frame.headers["Caller-Caller-ID-Number"] == "01088886666"
    assert frame.headers["variable_current_application_data"].endswith(" async full")
    assert frame.headers["Socket-Mode"] == "async"
    assert frame.headers["variable_dialguard_tenant"] == "acme"


def test_recorded_session_gives_the_frames_freeswitch_sent() -> None:
    """FreeSWITCH's side of an allowed, recorded call, as it sent it (see the README here)."""
    frames = parse((FIXTURES / "session-allow-recorded.esl").read_bytes())
    kinds = [type(f).__name__ for f in frames]
    assert kinds == ["CommandReply"] * 5 + ["Event"] + ["CommandReply"] * 2 + [
        "DisconnectNotice",
        "Event",
        "Event",
        "DisconnectNotice",
    ]
    assert [f.reply_text for f in frames[1:5] if isinstance(f, CommandReply)] == [
        "+OK will linger",
        "+OK Events Enabled",
        "+OK events nixed",
        "+OK event listener enabled plain",
    ]
    park, notice, stop, done = frames[5], frames[8], frames[9], frames[10]
    assert isinstance(park, Event) and park.name == "CHANNEL_PARK"  # queued before nixevent
    assert isinstance(notice, DisconnectNotice) and notice.lingering
    assert isinstance(stop, Event) and stop.name == "RECORD_STOP"
    assert stop.get("Record-File-Path").endswith(".wav")
    assert "/dg-" in stop.get("Record-File-Path")
    assert isinstance(done, Event) and done.get("Hangup-Cause") == "NORMAL_CLEARING"
    assert done.get("Caller-Channel-Answered-Time") == "1796456226229294"


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

"""Every command dialguard sends to FreeSWITCH, and the one function every argument passes.

A command is a header block ended by an empty line (``read_packet`` in ``mod_event_socket.c``):
the first line is the command, the rest ``name: value`` headers. A CR or LF in a value would end
the header (or the whole command) early and let the rest be read as headers of our own; NUL ends
the C string. FreeSWITCH also expands ``${…}`` in application arguments (a variable set now
may run as one later) and splits ``api`` arguments at blanks. So :func:`checked` refuses CR, LF
and NUL everywhere and lets through only the closed set that each argument needs: no
caller-supplied text reaches a command unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..gate.verdict import SAFE_VALUE

VERDICT = "dialguard_verdict"
"""``ALLOW`` or ``DENY``; set after reason and decision id, so a half-applied verdict never
reads as an allow in the ``dialguard_allowed`` context."""
REASON = "dialguard_reason"
DECISION_ID = "dialguard_decision_id"
RECORDING = "dialguard_recording"
"""Base name of the recording dialguard started (``dg-<decision id>``), else unset."""
RECORD_ON_ANSWER = "execute_on_answer_dialguard"
"""Starts the recording when the call is answered (FreeSWITCH runs every ``execute_on_answer*``
variable), so it holds the conversation, not the ringing, and the caller gets no early 183."""
NEXT_ALLOWED = "dialguard_next_allowed"
"""On a denial that time alone lifts: when the same call would pass (ISO 8601 with the callee's
offset), set before the verdict; else unset."""
ALLOW = "ALLOW"
DENY = "DENY"
OUTGOING_CALL_BARRED = "OUTGOING_CALL_BARRED"
"""The refusal of an outbound call: Q.850 cause 52, which mod_sofia answers with SIP 403 — the
same final response as Asterisk's cause 21. (CALL_REJECTED would be SIP 603 Decline, which
tells the caller the callee declined: not what happened.)"""
INCOMING_CALL_BARRED = "INCOMING_CALL_BARRED"
"""The refusal of an inbound call: Q.850 cause 54, SIP 403 too."""

DIAL_STRING = re.compile(r"[0-9A-Za-z+*#._-]{1,64}")
"""What a destination may look like to be passed to ``transfer``: one token, nothing to expand."""
VARIABLE_NAME = re.compile(r"[a-z_]{1,64}")
APP_NAME = re.compile(r"[a-z_]{1,32}")
HANGUP_CAUSE = re.compile(r"[A-Z_]{1,64}")
PATH = re.compile(r"(?:\$\$\{[A-Za-z0-9_]+\}|/?[A-Za-z0-9._-]+)(?:/[A-Za-z0-9._-]+)*")
"""Recording paths: an optional leading FreeSWITCH global, then plain segments."""
_LINE_BREAKERS = re.compile(r"[\r\n\x00]")
_PRINTABLE = re.compile(r"[ -~]*")

SOUND = re.compile(rf"tone_stream://[0-9%(),;]+|{PATH.pattern}")
"""What ``playback`` may play: a tone, or a file path as :data:`PATH`."""
CHANNEL_UUID = re.compile(r"[A-Za-z0-9-]{1,64}")
"""A channel's ``Unique-ID`` as a command argument (``filter``, ``api``, ``sendmsg <uuid>``)."""
OPTOUT_KEY = re.compile(r"[0-9*#]?")
NORMAL_CLEARING = "NORMAL_CLEARING"

SUBSCRIBED_EVENTS = ("CHANNEL_HANGUP_COMPLETE", "RECORD_STOP", "DTMF")
"""All the gate reads: the call's end (with answer and hangup times), its recording's end, and
the callee's keys (the keypad opt-out)."""
NOTICE_EVENT = "CHANNEL_EXECUTE_COMPLETE"
"""Subscribed only for a call whose recording notice must play: the callee leg's ``playback``
of it ends with this event, whose ``Application-Response`` says whether the file played."""
OTHER_LEG = "Other-Leg-Unique-ID"
"""On every event of the bridged callee leg: the uuid of the leg that originated it (ours)."""
GROUP_CONFIRM_KEY = "group_confirm_key"
GROUP_CONFIRM_FILE = "group_confirm_file"
"""``bridge`` copies both from our channel to the callee leg; with the key ``exec``, the leg runs
the file's ``<app> <arg>`` once it answers, before it is bridged to us (and before our channel
is answered, which is when our recording starts)."""
PRE_BRIDGE_APP = "bridge_pre_execute_aleg_app"
PRE_BRIDGE_DATA = "bridge_pre_execute_aleg_data"
"""What ``bridge`` runs on our channel just before the legs are joined: the recording of a
channel already answered (no later answer starts it; with a notice, it is heard first)."""


class UnsafeArgument(ValueError):
    """A value that must not go into a command; the message says which one, not the value."""


def checked(what: str, value: str, allowed: re.Pattern[str] = SAFE_VALUE) -> str:
    """``value`` unchanged when it has no CR/LF/NUL and fully matches ``allowed``."""
    if _LINE_BREAKERS.search(value):
        raise UnsafeArgument(f"{what}: CR, LF or NUL in the value")
    if not allowed.fullmatch(value):
        raise UnsafeArgument(f"{what}: {len(value)} characters outside {allowed.pattern}")
    return value


def _frame(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("ascii") + b"\n"


LINGER = _frame("linger")
GETVAR_UUID = _frame("getvar uuid")
"""Our channel's uuid; the reply's ``Reply-Text`` is the value itself, not ``+OK``."""
OPENING = LINGER + GETVAR_UUID
"""The first write. FreeSWITCH answers no first command but ``connect`` (``listener_run``), so
``linger`` goes first: only ``getvar``'s reply comes back."""
SUBSCRIBE = _frame("event plain " + " ".join(SUBSCRIBED_EVENTS))
SUBSCRIBE_NOTICE = _frame(f"event plain {NOTICE_EVENT}")


def subscribe(uuid: str) -> tuple[bytes, ...]:
    """The events of our channel and of the callee leg it bridges to (whose DTMF is the keypad
    opt-out): a ``filter`` on each uuid header, then the subscription. Without a filter the
    socket would get every channel's events."""
    checked_uuid = checked("uuid", uuid, CHANNEL_UUID)
    return (
        _frame(f"filter Unique-ID {checked_uuid}"),
        _frame(f"filter {OTHER_LEG} {checked_uuid}"),
        SUBSCRIBE,
    )


def execute(app: str, arg: str, uuid: str = "") -> bytes:
    """``sendmsg`` for the channel ``uuid`` (the bridged callee leg; without one, our own
    channel, which takes it only once parked); ``event-lock`` makes each app finish before the
    next."""
    return _frame(
        _sendmsg(uuid),
        "call-command: execute",
        f"execute-app-name: {checked('app', app, APP_NAME)}",
        f"execute-app-arg: {checked(app, arg, _PRINTABLE)}",
        "event-lock: true",
    )


def api(command: str, uuid: str, *args: str) -> bytes:
    """``api <command> <uuid> <args>``: run at once by mod_event_socket's listener thread
    (``full`` mode) and answered with an ``api/response``, whatever the channel is doing; a
    ``sendmsg`` would wait for the channel to take it (see :mod:`~dialguard.esl.session`)."""
    return _frame(" ".join(("api", command, checked("uuid", uuid, CHANNEL_UUID), *args)))


def dump(uuid: str) -> bytes:
    """The channel data: the headers of a CHANNEL_DATA event, URL-encoded, one per line."""
    return api("uuid_dump", uuid)


def set_variables(
    uuid: str, *pairs: tuple[str, str], allowed: Mapping[str, re.Pattern[str]] | None = None
) -> bytes:
    """One ``uuid_setvar_multi``, applied left to right (so put the verdict last). ``^^|`` makes
    ``|`` the separator (``switch_separate_string``): no checked value can hold one, and a value
    may hold a blank. Each value is checked against ``allowed[name]`` when given, else
    :data:`SAFE_VALUE`."""
    patterns = {**_VALUE_PATTERNS, **(allowed or {})}
    items = [
        f"{checked('variable', name, VARIABLE_NAME)}={_value(name, v, patterns.get(name))}"
        for name, v in pairs
    ]
    return api("uuid_setvar_multi", uuid, "^^|" + "|".join(items))


_VALUE_PATTERNS = {
    GROUP_CONFIRM_KEY: re.compile("exec"),
    GROUP_CONFIRM_FILE: re.compile(f"playback (?:{SOUND.pattern})"),
    PRE_BRIDGE_APP: re.compile("record_session"),
    PRE_BRIDGE_DATA: PATH,
}
"""The values these variables may take; setting them runs an app, so no other."""


def record_on_answer(directory: str, recording: str) -> tuple[str, str]:
    """The variable that has FreeSWITCH run ``record_session`` when the call is answered."""
    return RECORD_ON_ANSWER, f"record_session {recording_path(directory, recording)}"


def _value(name: str, value: str, allowed: re.Pattern[str] | None) -> str:
    if name == RECORD_ON_ANSWER:
        app, _, path = value.partition(" ")
        if app != "record_session":
            raise UnsafeArgument(f"{name}: only record_session may run on answer")
        checked(name, path, PATH)
        return value
    value = checked(name, value, allowed or SAFE_VALUE)
    if "|" in value:
        raise UnsafeArgument(f"{name}: '|' separates uuid_setvar_multi's values")
    return value


def recording_path(directory: str, recording: str) -> str:
    return f"{checked('recordings_dir', directory, PATH)}/{checked('recording', recording)}.wav"


def playback(sound: str, uuid: str = "") -> bytes:
    return execute("playback", checked("sound", sound, SOUND), uuid)


def notice_confirm(sound: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The variables that have the callee leg play ``sound`` once it answers (see
    :data:`GROUP_CONFIRM_FILE`)."""
    return (GROUP_CONFIRM_KEY, "exec"), (
        GROUP_CONFIRM_FILE,
        f"playback {checked('sound', sound, SOUND)}",
    )


def record_before_bridge(directory: str, recording: str) -> tuple[tuple[str, str], ...]:
    """The variables that start the recording of an answered channel when it is bridged."""
    return (PRE_BRIDGE_APP, "record_session"), (
        PRE_BRIDGE_DATA,
        recording_path(directory, recording),
    )


def transfer(uuid: str, destination: str, context: str) -> bytes:
    dest = checked("destination", destination, DIAL_STRING)
    return api("uuid_transfer", uuid, dest, "XML", checked("context", context))


def kill(uuid: str, cause: str) -> bytes:
    """Hang the channel up with ``cause`` (mod_sofia maps it to the SIP final response)."""
    return api("uuid_kill", uuid, checked("cause", cause, HANGUP_CAUSE))


def hangup(cause: str = OUTGOING_CALL_BARRED, uuid: str = "") -> bytes:
    return _frame(
        _sendmsg(uuid),
        "call-command: hangup",
        f"hangup-cause: {checked('cause', cause, HANGUP_CAUSE)}",
    )


def _sendmsg(uuid: str) -> str:
    return f"sendmsg {checked('uuid', uuid, CHANNEL_UUID)}" if uuid else "sendmsg"

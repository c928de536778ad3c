"""Every command dialguard sends to FreeSWITCH, and the one function every argument passes.

A command is a header block ended by an empty line (``read_packet`` in ``mod_event_socket.c``):
the first line is the command, the rest ``name: value`` headers. A CR or LF in a value would end
the header (or the whole command) early and let the rest be read as headers of our own; NUL ends
the C string. FreeSWITCH also expands ``${…}`` in application arguments and splits ``transfer``'s
argument at blanks. So :func:`checked` refuses CR, LF and NUL everywhere and lets through only
the closed set that each argument needs: no caller-supplied text reaches a command unchecked.
"""

from __future__ import annotations

import re

from ..agi.verdict import SAFE_VALUE

VERDICT = "dialguard_verdict"
"""``ALLOW`` or ``DENY``; set after reason and decision id, so a half-applied verdict never
reads as an allow in the ``dialguard_allowed`` context."""
REASON = "dialguard_reason"
DECISION_ID = "dialguard_decision_id"
RECORDING = "dialguard_recording"
"""Base name of the recording dialguard started (``dg-<decision id>``), else unset."""
NEXT_ALLOWED = "dialguard_next_allowed"
"""On a denial that time alone lifts: when the same call would pass (ISO 8601 with the callee's
offset), set before the verdict; else unset."""
ALLOW = "ALLOW"
DENY = "DENY"
CALL_REJECTED = "CALL_REJECTED"

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
OPTOUT_KEY = re.compile(r"[0-9*#]?")
NORMAL_CLEARING = "NORMAL_CLEARING"

SUBSCRIBED_EVENTS = ("CHANNEL_HANGUP_COMPLETE", "RECORD_STOP", "DTMF")


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


CONNECT = _frame("connect")
LINGER = _frame("linger")
MYEVENTS = _frame("myevents")
SUBSCRIBE = _frame("event plain " + " ".join(SUBSCRIBED_EVENTS))


def execute(app: str, arg: str) -> bytes:
    """``sendmsg`` for our own channel; ``event-lock`` makes each app finish before the next."""
    return _frame(
        "sendmsg",
        "call-command: execute",
        f"execute-app-name: {checked('app', app, APP_NAME)}",
        f"execute-app-arg: {checked(app, arg, _PRINTABLE)}",
        "event-lock: true",
    )


def set_variable(name: str, value: str, allowed: re.Pattern[str] = SAFE_VALUE) -> bytes:
    checked_name = checked("variable", name, VARIABLE_NAME)
    return execute("set", f"{checked_name}={checked(name, value, allowed)}")


def record_session(directory: str, recording: str) -> bytes:
    path = f"{checked('recordings_dir', directory, PATH)}/{checked('recording', recording)}.wav"
    return execute("record_session", path)


def playback(sound: str) -> bytes:
    return execute("playback", checked("sound", sound, SOUND))


def transfer(destination: str, context: str) -> bytes:
    dest = checked("destination", destination, DIAL_STRING)
    return execute("transfer", f"{dest} XML {checked('context', context)}")


def hangup(cause: str = CALL_REJECTED) -> bytes:
    return _frame(
        "sendmsg", "call-command: hangup", f"hangup-cause: {checked('cause', cause, HANGUP_CAUSE)}"
    )

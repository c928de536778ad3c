"""Structured logging: one JSON object (or key=value text) per line, phone numbers masked.

Masking happens in the formatter, so no handler can emit an unmasked number by accident: every
string of a line — the message, each field, the traceback — goes through
:func:`~dialguard.numbers.mask_text` before it is escaped (an escape such as ``\n`` in front of a
number would hide it from the masker). A record is always one line: JSON escapes what it must,
and the text format quotes a value holding a space, ``=``, a quote or a control character and
escapes the latter, so caller names and free text can neither start a line nor forge a field.

Every record can carry structured fields through ``extra={"fields": {...}}``; the call being
decided is bound with :func:`bind_call` (a context variable) and lands on every line logged for
it. :func:`configure` sends other libraries' warnings through the same formatter.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from .numbers import mask_text

_call_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dialguard_call", default=None
)


def bind_call(call_id: str | None) -> contextvars.Token[str | None]:
    return _call_id.set(call_id)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    extra = getattr(record, "fields", None)
    return dict(extra) if isinstance(extra, dict) else {}


class MaskingFormatter(logging.Formatter):
    def __init__(self, as_json: bool, process: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.as_json = as_json
        self.process = process or {}
        """Fields every line of this process carries (which of several gate processes it is)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **self.process,
        }
        call = _call_id.get()
        if call:
            entry["call"] = call
        entry.update(fields_of(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        masked = {str(key): _masked(value) for key, value in entry.items()}
        if self.as_json:
            line = json.dumps(masked, ensure_ascii=False)
            return _JSON_UNESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", line)
        return " ".join(f"{_token(key)}={_token(_text(value))}" for key, value in masked.items())


def _masked(value: Any) -> Any:
    """``value`` with every string in it masked; other values become masked strings."""
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(key): _masked(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(inner) for inner in value]
    return mask_text(str(value))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)  # lists and dicts: masked already


_RAW = "\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff"
"""Characters JSON leaves as they are that must not reach a log line raw: DEL and the C1
controls (NEL ends a line for some readers), the Unicode line and paragraph separators, and
unpaired surrogates (a caller name decoded with ``surrogateescape``; stderr cannot encode them)."""
_JSON_UNESCAPED = re.compile(f"[{_RAW}]")
_UNSAFE = re.compile(f'[\\x00-\\x1f{_RAW}"\\\\]')
"""What a text-format value may not hold as it is: the above, C0 controls, quote, backslash."""
_NEEDS_QUOTES = re.compile(f'[\\s=\\x00-\\x1f{_RAW}"\\\\]')
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _token(text: str) -> str:
    """``text`` as it is when it cannot be misread, else quoted with unsafe characters escaped."""
    if text and not _NEEDS_QUOTES.search(text):
        return text
    escaped = _UNSAFE.sub(lambda m: _ESCAPES.get(m[0], f"\\u{ord(m[0]):04x}"), text)
    return f'"{escaped}"'


def configure(
    level: str = "INFO", fmt: str = "json", process: dict[str, Any] | None = None
) -> None:
    """Log ``dialguard`` at ``level`` and every other library's warnings through one masking
    handler on stderr (otherwise Python's last-resort handler prints them as they are)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(as_json=fmt == "json", process=process))
    ours = logging.getLogger("dialguard")
    ours.handlers[:] = [handler]
    ours.setLevel(level.upper())
    ours.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)

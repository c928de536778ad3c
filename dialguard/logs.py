"""Structured logging: one JSON object (or key=value text) per line, phone numbers masked.

Masking happens in the formatter, so no handler can emit an unmasked number by accident. Every
record can carry structured fields through ``extra={"fields": {...}}``; the call being decided
is bound with :func:`bind_call` (a context variable) and lands on every line logged for it.
"""

from __future__ import annotations

import contextvars
import json
import logging
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
        if self.as_json:
            line = json.dumps(entry, ensure_ascii=False, default=str)
        else:
            line = " ".join(f"{key}={value}" for key, value in entry.items())
        return mask_text(line)


def configure(
    level: str = "INFO", fmt: str = "json", process: dict[str, Any] | None = None
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(as_json=fmt == "json", process=process))
    root = logging.getLogger("dialguard")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False

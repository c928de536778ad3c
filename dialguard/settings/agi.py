"""``[agi]``: the FastAGI listener, its decision budget and its worker processes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgiSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 4573
    budget_ms: int = 1500
    """The gate's own deadline for one decision; over it the call is denied (gate.timeout)."""
    notice_prompt: str = "beep"
    """The recording notice (``recording.notice = "required"`` in the pack): the sound the
    dialplan plays to the callee before recording, as ``Playback()`` names it (``custom/notice``
    → ``sounds/<channel language>/custom/notice.*``, so one file per language). The default,
    Asterisk's core ``beep``, is a tone for tests: record your own notice."""
    header_timeout_ms: int = 2000
    max_header_bytes: int = 16384
    workers: int = 1
    """Processes answering FastAGI on ``port``: ``serve`` itself and ``workers - 1`` more, the
    kernel spreading connections among them (SO_REUSEPORT). Each decides its calls and makes them
    durable itself; ESL, the API, recording and audit checkpoints stay in ``serve``."""

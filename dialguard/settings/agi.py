"""Settings of the ``[agi]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgiSettings:
    """``[agi]``: the FastAGI listener Asterisk's dialplan connects to (``agi://host:port``)."""

    enabled: bool = True
    """Whether ``serve`` answers FastAGI."""
    host: str = "127.0.0.1"
    """Address to listen on. FastAGI has no TLS: keep it on loopback or a private link (``serve``
    warns when it is a public address)."""
    port: int = 4573
    """TCP port (the snippet's ``DIALGUARD_AGI``, ``agi://127.0.0.1:4573`` by default)."""
    budget_ms: int = 1500
    """The gate's own deadline for one decision; over it the call is denied (gate.timeout)."""
    notice_prompt: str = "beep"
    """The recording notice (``recording.notice = "required"`` in the pack): the sound the
    dialplan plays to the callee before recording, as ``Playback()`` names it (``custom/notice``
    → ``sounds/<channel language>/custom/notice.*``, so one file per language). The default,
    Asterisk's core ``beep``, is a tone for tests: record your own notice."""
    header_timeout_ms: int = 2000
    """Longest wait for a request's header block (over it the call is denied, ``gate.bad-request``),
    and again for Asterisk's reply to the verdict."""
    max_header_bytes: int = 16384
    """Largest header block accepted; a longer one is refused and the call denied."""
    workers: int = 1
    """Processes answering FastAGI on ``port``: ``serve`` itself and ``workers - 1`` more, the
    kernel spreading connections among them (SO_REUSEPORT). Each decides its calls and makes them
    durable itself; ESL, the API, recording and audit checkpoints stay in ``serve``."""

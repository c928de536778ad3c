"""``[esl]`` settings: the FreeSWITCH outbound-socket gate (``Settings.esl``).

Every field is a bool, int or str, so ``esl.key`` / ``DIALGUARD_ESL_*`` overrides work like every
other section's. Nothing here imports :mod:`dialguard.config`, so config.py can import this
module; :func:`dialguard.settings.checks.check_esl` (ranges) and
:func:`dialguard.esl.server.check_settings` (FreeSWITCH grammar) name a bad key with a
``ConfigError``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EslSettings:
    """``[esl]``: the Event Socket (outbound mode) listener FreeSWITCH's ``socket`` application
    connects to, one connection per call."""

    enabled: bool = True
    """Whether ``serve`` answers FreeSWITCH's outbound socket."""
    host: str = "127.0.0.1"
    """Address to listen on. The outbound socket has no TLS and no password: keep it on
    loopback or a private link (``serve`` warns when it is a public address)."""
    port: int = 8084
    """FreeSWITCH's ``socket`` application connects here (``socket 127.0.0.1:8084 async full``;
    the snippet's ``dialguard_socket``)."""
    budget_ms: int = 1500
    """The gate's own deadline for one decision; over it the call is denied (gate.timeout)."""
    command_timeout_ms: int = 5000
    """Longest wait for FreeSWITCH's reply to one command (it answers at once when healthy), and
    for the peer to read what is left when a socket is closed."""
    linger_timeout_ms: int = 10000
    """After the channel hung up (or, after a DENY, once the hangup was sent), how long we wait
    for CHANNEL_HANGUP_COMPLETE before closing."""
    max_connections_per_peer: int = 1000
    """Open sockets one peer address may hold (one per call in progress, an allowed call's for
    its whole length); more are closed at once. FreeSWITCH's own default ``max-sessions``."""
    max_header_bytes: int = 65536
    """One frame's header block (its envelope: the channel data and events are bodies)."""
    max_headers: int = 1024
    """Most header lines in one block, event or channel data; more is a protocol error that ends
    the call (denied)."""
    max_body_bytes: int = 262144
    """One frame body (the channel data from ``uuid_dump``, an event with every channel
    variable)."""
    recordings_dir: str = "$${recordings_dir}"
    """Where ``record_session`` writes; the default lets FreeSWITCH expand its own global. Only
    an absolute path lets the gate check a ``RECORD_STOP``'s file and take it into the vault:
    a regular file directly in this directory, nothing else."""
    allowed_context: str = "dialguard_allowed"
    """Allowed calls are transferred to ``<destination> XML <allowed_context>``."""
    allowed_inbound_context: str = "dialguard_allowed_inbound"
    """Allowed inbound calls (``dialguard_direction=inbound``) are transferred here instead."""
    optout_key: str = "9"
    """DTMF digit that opts the callee out during an allowed outbound call (a ``DTMF`` event of
    the bridged callee leg; the caller's own keys do not count): the number goes on the
    tenant's do-not-call list, ``optout_confirm`` plays to the callee, the callee leg is hung
    up. Empty: no keypad opt-out."""
    notice_sound: str = "tone_stream://%(500,0,1000)"
    """The recording notice (``recording.notice = "required"`` in the pack), played to the callee
    leg once it answers and before the legs are bridged, so before the recording starts: your
    prompt file (an absolute path, or one under ``$${sounds_dir}``; one per language means one
    setting per gate), or this tone, meant for tests. A notice that did not play (a missing
    file) is flagged on the recording's vault entry; the call is recorded all the same."""
    optout_confirm: str = "tone_stream://%(500,0,440)"
    """What FreeSWITCH's ``playback`` plays to the callee once the opt-out is stored: your
    prompt file (an absolute path or one under ``$${sounds_dir}``), or this tone."""

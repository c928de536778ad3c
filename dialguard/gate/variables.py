"""Every channel variable the gate sets or the dialplan reads, in one place.

The dialplan clears ``DIALGUARD_VERDICT`` before ``AGI()`` and hangs up unless it reads ``ALLOW``
afterwards, so any failure between the two (crash, closed socket, refused connect) denies.
"""

from __future__ import annotations

VERDICT = "DIALGUARD_VERDICT"
"""``ALLOW`` or ``DENY``; set last, so a half-applied MSet never reads as an allow."""
REASON = "DIALGUARD_REASON"
"""First reason code of the decision (``time.quiet_hours``, ``gate.timeout``) or empty."""
DECISION_ID = "DIALGUARD_DECISION_ID"
"""The decision's id in the audit store (or the gate's own id for gate.* denials)."""
RECORDING = "DIALGUARD_RECORDING"
"""Base name for MixMonitor (``dg-<uniqueid>``) when the call must be recorded, else empty."""
NOTICE = "DIALGUARD_NOTICE"
"""The recording notice to play to the callee after answer, before MixMonitor starts (a sound
name for ``Playback``, ``agi.notice_prompt``), when the call is recorded and its pack requires
the notice (``recording.notice = "required"``); else empty."""
OPTOUT = "DIALGUARD_OPTOUT"
"""Set by the ``optout`` route: ``callee.optout`` once the callee's keypad opt-out is stored,
else the gate's failure code (no confirmation is played then)."""
NEXT_ALLOWED = "DIALGUARD_NEXT_ALLOWED"
"""On a denial that time alone lifts: the earliest instant the same call would pass, ISO 8601
with the callee's UTC offset (``2026-11-26T09:00:00+08:00``); else empty."""

ALLOW = "ALLOW"
DENY = "DENY"

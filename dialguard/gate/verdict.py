"""What the gate tells the PBX, whichever transport carries it, and the ``gate.*`` codes of the
gate's own denials.

Every value is checked against a closed character set when the verdict is made, so neither a
comma (``MSet``'s separator), a quote, ``$`` nor any caller-controlled text can get into the
command a transport builds from it (:mod:`dialguard.agi.mset`, :mod:`dialguard.esl.commands`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from ..policy.model import Decision, Verdict
from ..recording.names import ASTERISK_UNIQUEID
from . import variables

SAFE_VALUE = re.compile(r"[A-Za-z0-9._:-]*")
"""Reason codes, uuids and file names. ``_`` is included: the policy's codes use it
(``time.quiet_hours``) and it means nothing to MSet or AGI quoting."""
INSTANT_VALUE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?[+-][0-9]{2}:[0-9]{2}|"
)
"""``next_allowed``: an ISO 8601 instant with its offset (``+`` is outside :data:`SAFE_VALUE`)."""
SOUND_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
"""A ``Playback`` sound: ``beep``, ``custom/recording-notice`` or an absolute path without
extension (``/var/lib/asterisk/sounds/custom/notice``); never a ``..``-only segment, a comma,
``&`` (Playback's own separator) or a quote. Asterisk picks the channel language's file."""
DEFAULT_NOTICE = "beep"

GATE_TIMEOUT = "gate.timeout"
GATE_ERROR = "gate.error"
GATE_BAD_REQUEST = "gate.bad-request"
GATE_UNKNOWN_ROUTE = "gate.unknown-route"


class UnsafeValue(ValueError):
    """A verdict value outside :data:`SAFE_VALUE`; the message names the variable."""


def new_decision_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class GateVerdict:
    verdict: Verdict
    decision_id: str
    reason: str = ""
    recording: str = ""
    next_allowed: str = ""
    """When a denial that time alone lifts would pass (:data:`INSTANT_VALUE`), else empty."""
    notice: str = ""
    """The recording notice to play before recording (:data:`SOUND_NAME`), else empty."""

    def __post_init__(self) -> None:
        if not self.decision_id:
            raise UnsafeValue(f"{variables.DECISION_ID} is empty")
        if not INSTANT_VALUE.fullmatch(self.next_allowed):
            raise UnsafeValue(f"{variables.NEXT_ALLOWED}: {self.next_allowed[:40]!r} is no instant")
        if self.notice and not SOUND_NAME.fullmatch(self.notice.lstrip("/")):
            raise UnsafeValue(f"{variables.NOTICE}: {self.notice[:40]!r} is no sound name")
        for name, value in self.assignments():
            checked = name not in (variables.NEXT_ALLOWED, variables.NOTICE)
            if checked and not SAFE_VALUE.fullmatch(value):
                raise UnsafeValue(f"{name}: {value[:40]!r} has characters outside [A-Za-z0-9._:-]")

    @classmethod
    def deny(cls, reason: str, decision_id: str | None = None) -> GateVerdict:
        return cls(Verdict.DENY, decision_id or new_decision_id(), reason)

    @classmethod
    def from_decision(
        cls, decision: Decision, uniqueid: str, notice_prompt: str = DEFAULT_NOTICE
    ) -> GateVerdict:
        """The recording name never carries caller text: ``dg-<uniqueid>`` when the uniqueid has
        Asterisk's ``<epoch>.<counter>`` form, else ``dg-<decision id>``. ``notice_prompt`` is
        what a recorded call whose pack requires the notice plays first."""
        recording = notice = ""
        if decision.allowed and decision.record:
            base = uniqueid if ASTERISK_UNIQUEID.fullmatch(uniqueid) else decision.decision_id
            recording = f"dg-{base}"
            notice = notice_prompt if decision.notice else ""
        retry = decision.next_allowed_at
        return cls(
            decision.verdict,
            decision.decision_id,
            decision.first_reason or "",
            recording,
            "" if retry is None else retry.isoformat(),
            notice,
        )

    def assignments(self) -> tuple[tuple[str, str], ...]:
        """Assignments in MSet order; the verdict is last, so it is set only if the others were."""
        return (
            (variables.REASON, self.reason),
            (variables.DECISION_ID, self.decision_id),
            (variables.RECORDING, self.recording),
            (variables.NEXT_ALLOWED, self.next_allowed),
            (variables.NOTICE, self.notice),
            (
                variables.VERDICT,
                variables.ALLOW if self.verdict is Verdict.ALLOW else variables.DENY,
            ),
        )

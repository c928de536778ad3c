"""A gate verdict as the one AGI command that tells the dialplan: ``EXEC "MSet" …``."""

from __future__ import annotations

from dataclasses import dataclass

from ..gate.verdict import GateVerdict
from ..policy.model import Verdict
from .protocol import command


@dataclass(frozen=True, slots=True)
class MSet:
    """A decision route's answer: the verdict's channel variables in one ``MSet``, and the
    fields the server logs. Every value was checked when the :class:`GateVerdict` was made."""

    gate_verdict: GateVerdict

    @classmethod
    def deny(cls, reason: str) -> MSet:
        return cls(GateVerdict.deny(reason))

    @property
    def verdict(self) -> Verdict:
        return self.gate_verdict.verdict

    @property
    def reason(self) -> str:
        return self.gate_verdict.reason

    @property
    def decision_id(self) -> str:
        return self.gate_verdict.decision_id

    def command(self) -> str:
        """``EXEC "MSet" "DIALGUARD_REASON=…,DIALGUARD_DECISION_ID=…,…,DIALGUARD_VERDICT=…"``;
        ``DIALGUARD_NEXT_ALLOWED`` and ``DIALGUARD_NOTICE`` always, empty unless known."""
        assignments = self.gate_verdict.assignments()
        return command("EXEC", "MSet", ",".join(f"{name}={value}" for name, value in assignments))

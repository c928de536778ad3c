"""``agi://<gate>/optout,<decision id>`` — the callee pressed the opt-out key during the call.

The snippet's ``dialguard-optout`` runs this on the callee's channel with the call's decision
id; :class:`dialguard.gate.optout.KeypadOptOut` puts the decision's callee on its tenant's list
(durable and audited before the answer goes back). The answer is one variable,
``DIALGUARD_OPTOUT``: ``callee.optout`` when the number is on the list (the snippet then plays
the confirmation and hangs up), else why not (``gate.bad-request``: no such allowed call;
``gate.error``/``gate.timeout``: storage failed or was too slow), so no confirmation is played
for an opt-out that was not stored. It never touches the call's verdict variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..gate import variables
from ..gate.optout import KeypadOptOut
from ..gate.verdict import SAFE_VALUE, new_decision_id
from ..policy.model import Verdict
from .protocol import AgiRequest, command


@dataclass(frozen=True, slots=True)
class OptOutAnswer:
    """What the gate tells the dialplan after an opt-out; the fields the server logs."""

    reason: str
    decision_id: str
    verdict: Verdict = Verdict.DENY
    """The call is ending either way (for the server's log line)."""

    def command(self) -> str:
        return command("EXEC", "Set", f"{variables.OPTOUT}={self.reason}")


class OptOutRoute:
    def __init__(self, optout: KeypadOptOut) -> None:
        self._optout = optout

    async def __call__(self, request: AgiRequest) -> OptOutAnswer:
        decision_id = request.arg(1)
        reason = await self._optout(decision_id)
        safe_id = decision_id if decision_id and SAFE_VALUE.fullmatch(decision_id) else ""
        return OptOutAnswer(reason, safe_id or new_decision_id())

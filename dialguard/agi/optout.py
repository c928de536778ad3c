"""``agi://<gate>/optout,<decision id>`` — the callee pressed the opt-out key during the call.

The snippet's ``dialguard-optout`` runs this on the callee's channel with the call's decision
id; :func:`dialguard.ops.dnc.keypad_opt_out` puts the decision's callee on its tenant's list
(durable and audited before the answer goes back). The answer is one variable,
``DIALGUARD_OPTOUT``: ``callee.optout`` when the number is on the list (the snippet then plays
the confirmation and hangs up), else why not (``gate.bad-request``: no such allowed call;
``gate.error``/``gate.timeout``: storage failed or was too slow), so no confirmation is played
for an opt-out that was not stored. It never touches the call's verdict variables.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ..clock import Clock
from ..gate import variables
from ..gate.verdict import GATE_BAD_REQUEST, GATE_ERROR, GATE_TIMEOUT, SAFE_VALUE, new_decision_id
from ..ops.audited import Actor, Invalid
from ..ops.dnc import keypad_opt_out
from ..policy.model import Verdict
from ..storage.store import Store
from .protocol import AgiRequest, command

log = logging.getLogger("dialguard.agi")

OPTED_OUT = "callee.optout"
ACTOR = "pbx-keypad"
"""The audit entry's actor: the callee acting through the PBX, not an operator."""
OPTOUT_TIMEOUT_S = 5.0
"""A durable write, not a decision: bounded, but not by the decision budget."""


@dataclass(frozen=True, slots=True)
class OptOutAnswer:
    """What the gate tells the dialplan after an opt-out; the fields the server logs."""

    reason: str
    decision_id: str
    verdict: Verdict = Verdict.DENY
    """The call is ending either way (for the server's log line)."""

    def command(self) -> str:
        return command("EXEC", "Set", f"{variables.OPTOUT}={self.reason}")


class KeypadOptOut:
    """Runs the shared operation for a transport (this route, the ESL gate's DTMF events):
    returns :data:`OPTED_OUT` once the entry is stored, else the failure code. Never raises."""

    def __init__(self, store: Store, clock: Clock, region: str) -> None:
        self._store = store
        self._clock = clock
        self._region = region

    async def __call__(self, decision_id: str) -> str:
        if not decision_id or not SAFE_VALUE.fullmatch(decision_id):
            return GATE_BAD_REQUEST
        actor = Actor(ACTOR, self._clock.now(), self._region)
        fields: dict[str, str] = {"decision_id": decision_id}
        try:
            async with asyncio.timeout(OPTOUT_TIMEOUT_S):
                outcome, tenant = await keypad_opt_out(self._store, actor, decision_id)
        except Invalid as exc:
            log.warning("keypad opt-out refused: %s", exc, extra={"fields": fields})
            return GATE_BAD_REQUEST
        except TimeoutError:
            log.error("keypad opt-out not stored in time", extra={"fields": fields})
            return GATE_TIMEOUT
        except Exception as exc:  # the callee must not be told "done" for an unstored opt-out
            fields["error"] = repr(exc)[:300]
            log.error("keypad opt-out failed", extra={"fields": fields})
            return GATE_ERROR
        fields |= {"tenant": tenant, "outcome": outcome.value}
        log.info("callee opted out by keypad", extra={"fields": fields})
        return OPTED_OUT


class OptOutRoute:
    def __init__(self, optout: KeypadOptOut) -> None:
        self._optout = optout

    async def __call__(self, request: AgiRequest) -> OptOutAnswer:
        decision_id = request.arg(1)
        reason = await self._optout(decision_id)
        safe_id = decision_id if decision_id and SAFE_VALUE.fullmatch(decision_id) else ""
        return OptOutAnswer(reason, safe_id or new_decision_id())

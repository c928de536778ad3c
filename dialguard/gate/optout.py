"""The callee's keypad opt-out, for every transport that hears the key (the FastAGI ``optout``
route, the ESL gate's DTMF events): :func:`dialguard.ops.dnc.keypad_opt_out` puts the decision's
callee on its tenant's list, durable and audited before the transport answers.
"""

from __future__ import annotations

import asyncio
import logging

from ..clock import Clock
from ..ops.audited import Actor, Invalid
from ..ops.dnc import keypad_opt_out
from ..storage.store import Store
from .verdict import GATE_BAD_REQUEST, GATE_ERROR, GATE_TIMEOUT, SAFE_VALUE

log = logging.getLogger("dialguard.agi")

OPTED_OUT = "callee.optout"
ACTOR = "pbx-keypad"
"""The audit entry's actor: the callee acting through the PBX, not an operator."""
OPTOUT_TIMEOUT_S = 5.0
"""A durable write, not a decision: bounded, but not by the decision budget."""


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

"""``agi://<gate>/inbound[,<dialled number>,<tenant>,<purpose>]`` — when a call reaches us.

The decision maker decides (spoofed or invalid caller-ID is refused or flagged by the policy);
this route only translates. The dialled number is ``agi_arg_1``, else the extension.
Failure branch: as for outbound, no decision within the budget is a DENY.
"""

from __future__ import annotations

from ..gate.budget import DecisionGate
from ..gate.verdict import GATE_BAD_REQUEST
from ..policy.model import Direction
from .attempt import attempt_from
from .mset import MSet
from .protocol import AgiRequest


class InboundRoute:
    def __init__(self, gate: DecisionGate) -> None:
        self._gate = gate

    async def __call__(self, request: AgiRequest) -> MSet:
        callee = request.arg(1) or request.extension
        if not callee:
            return MSet.deny(GATE_BAD_REQUEST)
        attempt = attempt_from(request, Direction.INBOUND, callee)
        return MSet(await self._gate.decide(attempt, request.uniqueid))

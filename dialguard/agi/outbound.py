"""``agi://<gate>/outbound,<callee>,<tenant>,<purpose>`` — before an outbound ``Dial()``.

Failure branch: anything but a decision within the budget is a DENY (``gate.timeout``,
``gate.error``); a missing callee argument is a DENY (``gate.bad-request``) without asking the
policy. The dialplan hangs up unless ``DIALGUARD_VERDICT`` reads ``ALLOW``.
"""

from __future__ import annotations

from ..gate.budget import DecisionGate
from ..gate.verdict import GATE_BAD_REQUEST
from ..policy.model import Direction
from .attempt import attempt_from
from .mset import MSet
from .protocol import AgiRequest


class OutboundRoute:
    def __init__(self, gate: DecisionGate) -> None:
        self._gate = gate

    async def __call__(self, request: AgiRequest) -> MSet:
        callee = request.arg(1)
        if not callee:
            return MSet.deny(GATE_BAD_REQUEST)
        attempt = attempt_from(request, Direction.OUTBOUND, callee)
        return MSet(await self._gate.decide(attempt, request.uniqueid))

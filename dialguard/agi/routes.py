"""The explicit route table: ``agi_network_script`` → handler. No registry, no scan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from .gate import DecisionGate, DecisionMaker
from .inbound import InboundRoute
from .outbound import OutboundRoute
from .protocol import AgiRequest
from .verdict import GateVerdict

RouteHandler = Callable[[AgiRequest], Awaitable[GateVerdict]]


def build_routes(maker: DecisionMaker, budget_ms: int) -> Mapping[str, RouteHandler]:
    """Both routes share one gate, so one outage is logged once whichever route sees it."""
    gate = DecisionGate(maker, budget_ms)
    return {
        "outbound": OutboundRoute(gate),
        "inbound": InboundRoute(gate),
    }

"""The explicit route table: ``agi_network_script`` → handler. No registry, no scan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from ..gate.budget import DecisionGate, DecisionMaker
from ..gate.verdict import DEFAULT_NOTICE, SOUND_NAME
from ..policy.model import Verdict
from ..settings.errors import ConfigError
from .inbound import InboundRoute
from .outbound import OutboundRoute
from .protocol import AgiRequest


class AgiAnswer(Protocol):
    """What a route answers: one AGI command, and the fields the server logs."""

    @property
    def verdict(self) -> Verdict: ...
    @property
    def reason(self) -> str: ...
    @property
    def decision_id(self) -> str: ...
    def command(self) -> str: ...


RouteHandler = Callable[[AgiRequest], Awaitable[AgiAnswer]]


def build_routes(
    maker: DecisionMaker,
    budget_ms: int,
    optout: RouteHandler | None = None,
    notice_prompt: str = DEFAULT_NOTICE,
) -> Mapping[str, RouteHandler]:
    """Both decision routes share one gate, so one outage is logged once whichever route sees
    it; ``optout`` (the callee's keypad opt-out, :mod:`.optout`) when the caller provides it.
    ``notice_prompt``: the recording notice's sound (``agi.notice_prompt``), checked here."""
    if not SOUND_NAME.fullmatch(notice_prompt.lstrip("/")):
        raise ConfigError(
            f"agi.notice_prompt: {notice_prompt[:80]!r} is not a sound name of [A-Za-z0-9._-] "
            "segments"
        )
    gate = DecisionGate(maker, budget_ms, notice_prompt)
    routes: dict[str, RouteHandler] = {
        "outbound": OutboundRoute(gate),
        "inbound": InboundRoute(gate),
    }
    if optout is not None:
        routes["optout"] = optout
    return routes

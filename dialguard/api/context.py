"""What every handler shares: the store, the gate (for dry runs), settings and the opt-out limits.

Built once per application by :func:`ApiContext.build`; handlers reach it through their
:class:`~dialguard.api.endpoint.Call`, never through module globals.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from ..campaigns.screening import PhraseScreen
from ..clock import Clock
from ..config import Settings
from ..display import operator_zone
from ..gate.service import GateService
from ..metrics import GateMetrics
from ..ops.vocabulary import Vocabulary
from ..storage.store import Store
from .ratelimit import KeyedLimiter


def _no_listeners() -> Mapping[str, bool | None]:
    return {}


@dataclass(frozen=True)
class ApiContext:
    store: Store
    gate: GateService
    settings: Settings
    optout_by_client: KeyedLimiter
    optout_by_number: KeyedLimiter
    phrases: PhraseScreen
    """Compiled banned-phrase sets per tenant industry (``POST /v1/text/check``)."""
    vocabulary: Vocabulary
    """The purposes and consent channels the rule packs define (what admin input may name)."""
    zone: tzinfo
    """The operator's zone: times given without an offset are read in it (``display``)."""
    metrics: GateMetrics | None = None
    """The running gate's metrics (``GET /metrics``); None: the route answers 404."""
    verifying: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while an audit verification runs: one at a time (each takes a CPU)."""
    listeners: Callable[[], Mapping[str, bool | None]] = _no_listeners
    """The gate's listeners by name (``agi``, ``esl``): serving, not serving, or None when
    disabled (``GET /health``); :class:`~dialguard.app.GateApp` gives its own."""

    @classmethod
    def build(
        cls,
        store: Store,
        gate: GateService,
        settings: Settings,
        monotonic: Callable[[], float] = time.monotonic,
        listeners: Callable[[], Mapping[str, bool | None]] | None = None,
        *,
        metrics: GateMetrics | None = None,
    ) -> ApiContext:
        """``monotonic`` drives the rate limits' refill (tests step it by hand)."""
        api = settings.api
        return cls(
            store=store,
            gate=gate,
            settings=settings,
            metrics=metrics,
            optout_by_client=KeyedLimiter(
                api.optout_client_burst, api.optout_client_per_hour, now=monotonic
            ),
            optout_by_number=KeyedLimiter(
                api.optout_number_burst, api.optout_number_per_hour, now=monotonic
            ),
            phrases=PhraseScreen(
                gate.book,
                Path(settings.policy.phrases_file) if settings.policy.phrases_file else None,
            ),
            vocabulary=Vocabulary.of(gate.book),
            zone=operator_zone(settings),
            listeners=_no_listeners if listeners is None else listeners,
        )

    @property
    def clock(self) -> Clock:
        return self.gate.clock

    @property
    def region(self) -> str:
        return self.settings.numbers.default_region

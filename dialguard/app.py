"""Assembles the running gate: store, decision log, policy, and the transports ``serve`` starts.

Kept apart from the CLI so tests and benchmarks can run the very same stack in-process.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from .agi.routes import build_routes
from .agi.server import AgiServer
from .clock import Clock
from .config import Settings
from .esl.server import EslServer
from .policy.pack import RulePack, load_pack
from .service import GateService
from .storage.decision_log import DecisionLog
from .storage.store import Store

log = logging.getLogger("dialguard.app")

CALENDAR_LOOKAHEAD = timedelta(days=60)


def pack_from(settings: Settings) -> RulePack:
    policy = settings.policy
    return load_pack(
        policy.pack,
        Path(policy.overrides_file) if policy.overrides_file else None,
        Path(policy.calendar_file) if policy.calendar_file else None,
    )


class GateApp:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.pack = pack_from(settings)
        self.store: Store | None = None
        self.decision_log: DecisionLog | None = None
        self.agi: AgiServer | None = None
        self.esl: EslServer | None = None

    async def start(self) -> None:
        self._warn_about_clock_and_calendar()
        self.store = await Store.open(self.settings)
        self.decision_log = DecisionLog(self.store)
        self.decision_log.start()
        gate = GateService(
            self.store,
            self.pack,
            self.clock,
            self.settings.numbers.default_region,
            self.decision_log,
        )
        if self.settings.agi.enabled:
            routes = build_routes(gate, self.settings.agi.budget_ms)
            self.agi = AgiServer(self.settings.agi, routes)
            await self.agi.start()
            log.info(
                "fastagi listening",
                extra={"fields": {"host": self.settings.agi.host, "port": self.agi.port}},
            )
        if self.settings.esl.enabled:
            self.esl = EslServer(self.settings.esl, gate)
            await self.esl.start()
            log.info(
                "esl outbound socket listening",
                extra={"fields": {"host": self.settings.esl.host, "port": self.esl.port}},
            )
        log.info("gate ready", extra={"fields": {"policy_version": self.pack.policy_version}})

    async def stop(self) -> None:
        if self.agi is not None:
            await self.agi.stop()
        if self.esl is not None:
            await self.esl.stop()
        if self.decision_log is not None:
            await self.decision_log.stop()
        if self.store is not None:
            await self.store.close()

    def _warn_about_clock_and_calendar(self) -> None:
        if self.clock.frozen:
            log.warning(
                "CLOCK FROZEN by DIALGUARD_NOW: every decision uses this instant; "
                "never run a production gate like this",
                extra={"fields": {"now": self.clock.now().isoformat()}},
            )
        horizon = (self.clock.now() + CALENDAR_LOOKAHEAD).date()
        if not self.pack.calendar.covers(horizon):
            log.warning(
                "holiday calendar has no data for an upcoming year: calls on uncovered dates "
                "are denied (time.calendar_missing) until the official calendar is imported",
                extra={"fields": {"year": horizon.year}},
            )

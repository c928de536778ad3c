"""Assembles the running gate: store, decision log, policy, and the transports ``serve`` starts.

Kept apart from the CLI so tests and benchmarks can run the very same stack in-process.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .agi.optout import OptOutRoute
from .agi.routes import build_routes
from .agi.server import AgiServer
from .api import ApiContext, ApiServer, create_app
from .audit.checkpoint import SigningKey, last_checkpoint_at
from .audit.writer import CheckpointTask, CheckpointWriter
from .clock import Clock
from .config import Settings
from .console import add_console
from .dnc.national import NationalDnc
from .esl.server import EslServer
from .gate.optout import KeypadOptOut
from .gate.service import GateService
from .metrics import GateMetrics, Probes
from .numbers import load_geocoder
from .ops.recording_runtime import RecordingRuntime
from .policy.book import PolicyBook
from .preflight import (
    warn_about_cleartext,
    warn_about_file_modes,
    warn_about_filings,
    warn_about_residency,
)
from .settings.checks import check_agi, check_api
from .settings.errors import ConfigError
from .storage.decision_log import DecisionLog
from .storage.facts import FactReader, fact_reader
from .storage.store import Store

log = logging.getLogger("dialguard.app")

CALENDAR_LOOKAHEAD = timedelta(days=60)


def book_from(settings: Settings) -> PolicyBook:
    policy = settings.policy
    return PolicyBook.load(
        policy.pack,
        Path(policy.overrides_file) if policy.overrides_file else None,
        Path(policy.calendar_file) if policy.calendar_file else None,
    )


def tenant_regions(settings: Settings) -> Callable[[str], str]:
    """Tenant → the region its recordings are stored in, parsed once (it is asked per call)."""
    mapping = settings.recording.tenant_region_map()
    default = settings.recording.default_region
    return lambda tenant: mapping.get(tenant, default)


async def listen(section: str, host: str, port: int, start: Callable[[], Awaitable[None]]) -> None:
    """Start a listener; a socket that cannot be bound (the port taken, a privileged port, an
    address this host lacks) is a :class:`ConfigError` naming the setting and what to do."""
    try:
        await start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            hint = (
                f"another process listens there (`ss -ltnp 'sport = :{port}'` names it; "
                f"`dialguard status` tells whether it is a running gate): stop it, or set "
                f"{section}.port to a free port"
            )
        elif exc.errno == errno.EACCES:
            hint = f"ports below 1024 need privileges: set {section}.port to 1024 or above"
        else:
            hint = f"check {section}.host is an address of this host"
        raise ConfigError(
            f"{section}.port: cannot listen on {host}:{port}: "
            f"{os.strerror(exc.errno) if exc.errno else exc}; {hint}"
        ) from None


@dataclass(frozen=True)
class Subsystems:
    """Which subsystems run in this process. ``serve`` runs every enabled one; each extra process
    of ``agi.workers`` answers FastAGI only and leaves the start-up warnings to ``serve``."""

    agi: bool
    esl: bool
    api: bool
    recording: bool
    checkpoints: bool
    warnings: bool

    @classmethod
    def of(cls, settings: Settings, *, agi_worker: bool) -> Subsystems:
        primary = not agi_worker
        return cls(
            agi=settings.agi.enabled,
            esl=primary and settings.esl.enabled,
            api=primary and settings.api.enabled,
            recording=primary and settings.recording.enabled,
            checkpoints=primary,
            warnings=primary,
        )


class GateApp:
    def __init__(self, settings: Settings, clock: Clock, *, agi_worker: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        self.agi_worker = agi_worker
        """One of the extra processes of ``agi.workers``: FastAGI only, warnings left to serve."""
        check_agi(settings.agi)
        check_api(settings.api)
        self.subsystems = Subsystems.of(settings, agi_worker=agi_worker)
        self.book = book_from(settings)
        self.pack = self.book.default_pack
        self.national_dnc: NationalDnc | None = None
        self.store: Store | None = None
        self.decision_log: DecisionLog | None = None
        self.facts: FactReader | None = None
        self.gate: GateService | None = None
        self.agi: AgiServer | None = None
        self.esl: EslServer | None = None
        self.api: ApiServer | None = None
        self.recording: RecordingRuntime | None = None
        self.checkpoints: CheckpointTask | None = None
        self.metrics = GateMetrics()
        """This process's metrics, served at ``GET /metrics`` by the API."""

    async def start(self) -> None:
        """Open and start everything; if a step fails, close what the earlier ones opened."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        runs = self.subsystems
        if runs.warnings:
            self._warn_about_clock_and_calendar()
            self._warn_about_data_regions()
            warn_about_file_modes(self.settings)
            warn_about_cleartext(self.settings)
        self.store = await Store.open(self.settings)
        if runs.warnings:
            await warn_about_filings(self.store, self.pack.calendar, self.clock.now())
        if runs.recording:
            # File times are real (the PBX writes them): recordings follow the wall clock even
            # when DIALGUARD_NOW freezes the decisions' clock.
            self.recording = RecordingRuntime(
                self.settings.recording,
                self.store,
                self.pack,
                Clock().now,
                self.settings.numbers.default_region,
            )
        self.decision_log = DecisionLog(
            self.store,
            region=self.settings.numbers.default_region,
            on_commit=self.metrics.committed,
        )
        self.decision_log.start()
        if runs.checkpoints:
            self._start_checkpoints(self.store)
        self.national_dnc = NationalDnc.open(self.settings.policy.national_dnc)
        if self.book.geocodes:  # before any call can need it, off the event loop
            await asyncio.to_thread(load_geocoder)
        self.facts = fact_reader(self.store)
        self.gate = gate = GateService(
            self.facts,
            self.book,
            self.clock,
            self.settings.numbers.default_region,
            self.decision_log,
            tenant_regions(self.settings),
            self.national_dnc,
            self.settings.database.region or None,
            metrics=self.metrics,
        )
        optout = KeypadOptOut(self.store, self.clock, self.settings.numbers.default_region)
        if runs.agi:
            routes = build_routes(
                gate,
                self.settings.agi.budget_ms,
                OptOutRoute(optout),
                self.settings.agi.notice_prompt,
            )
            self.agi = AgiServer(self.settings.agi, routes)
            await listen("agi", self.settings.agi.host, self.settings.agi.port, self.agi.start)
        if runs.esl:
            sink = None if self.recording is None else self.recording.sink
            self.esl = EslServer(
                self.settings.esl,
                gate,
                recordings=sink,
                optout=optout,
                timing=self.metrics.esl_phase,
            )
            await listen("esl", self.settings.esl.host, self.settings.esl.port, self.esl.start)
        if self.recording is not None:
            await self.recording.start()
        if runs.api:
            self.metrics.watch(self._probes())
            context = ApiContext.build(
                self.store, gate, self.settings, listeners=self.listeners, metrics=self.metrics
            )
            api = create_app(context)
            add_console(api, context)
            self.api = ApiServer(self.settings.api, api)
            await listen("api", self.settings.api.host, self.settings.api.port, self.api.start)
        fields = {"policy_version": self.pack.policy_version, "agi_worker": self.agi_worker}
        log.info("gate ready", extra={"fields": fields})

    def listeners(self) -> dict[str, bool | None]:
        """Each transport: serving, not serving (it should), or None when disabled."""
        runs = self.subsystems
        return {
            "agi": (self.agi is not None and self.agi.serving) if runs.agi else None,
            "esl": (self.esl is not None and self.esl.serving) if runs.esl else None,
        }

    async def stop(self) -> None:
        if self.api is not None:
            await self.api.stop()
        if self.agi is not None:
            await self.agi.stop()
        if self.esl is not None:
            await self.esl.stop()
        if self.recording is not None:
            await self.recording.stop()
        if self.decision_log is not None:
            await self.decision_log.stop()
        if self.facts is not None:
            self.facts.close()
        if self.checkpoints is not None:
            await self.checkpoints.stop()
        if self.national_dnc is not None:
            self.national_dnc.close()
        if self.store is not None:
            await self.store.close()

    def _probes(self) -> Probes:
        """What ``GET /metrics`` reads from the parts running now."""
        probes = Probes(now=self.clock.now)
        if self.agi is not None:
            probes.connections["agi"] = lambda: self.agi.calls_in_flight if self.agi else 0
        if self.esl is not None:
            probes.connections["esl"] = lambda: self.esl.calls_in_flight if self.esl else 0
        if self.recording is not None:
            worker = self.recording.worker
            probes.recordings_pending = lambda: worker.pending
            probes.recording_failures = lambda: worker.failures
        if self.national_dnc is not None:
            probes.dnc_indexes = self.national_dnc.states
        checkpoint_file = Path(self.settings.audit.checkpoint_file)
        probes.checkpoint_at = lambda: last_checkpoint_at(checkpoint_file)
        return probes

    def _start_checkpoints(self, store: Store) -> None:
        """Sign audit checkpoints every ``audit.checkpoint_interval_s``. Without a signing key
        the gate still runs (calls must not fail over it) but says loudly that it is not
        signing; a key file that exists but cannot be used stops the start."""
        audit = self.settings.audit
        key_path = Path(audit.signing_key_file)
        if audit.checkpoint_interval_s <= 0:
            return
        if not key_path.exists():
            log.error(
                "audit checkpoints are OFF: no signing key (create it with "
                "`dialguard audit init-key`)",
                extra={"fields": {"signing_key_file": str(key_path)}},
            )
            return
        writer = CheckpointWriter(store, SigningKey.load(key_path), Path(audit.checkpoint_file))
        self.checkpoints = CheckpointTask(writer, self.clock, audit.checkpoint_interval_s)
        self.checkpoints.start()

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

    def _warn_about_data_regions(self) -> None:
        """Packs that keep data in a region (EU) deny calls by tenants stored elsewhere
        (``data.residency``); say so once at start rather than only in each denial."""
        warn_about_residency(
            self.settings, self.book.data_regions(), self.settings.recording.tenant_region_map()
        )
        configured = set(self.settings.recording.regions_map())
        for pack, region in sorted(self.book.data_regions().items()):
            if region not in configured:
                log.warning(
                    "a rule pack keeps its calls' data in a region recording.regions lacks: "
                    "calls under it are denied (data.residency) until a tenant is mapped there",
                    extra={"fields": {"pack": pack, "region": region}},
                )

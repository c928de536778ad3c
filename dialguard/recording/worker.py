"""What ``dialguard serve`` runs for recordings: the AMI listener, the spool sweep (at start and
every ``spool_sweep_interval_s``) and the retention sweep (every ``retention_sweep_interval_s``).

``start()``/``stop()`` like the other servers; ``stop()`` cancels everything it started. A failing
sweep is logged once per outage, not once per round (STYLE: decide each dependency's failure
mode). Ingests go to the ``on_ingest`` hook and the retention sweep is the caller's ``sweeper``,
so the caller can audit them (``dialguard serve``: :mod:`dialguard.ops.recordings`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from panoramisk import Manager

from ..settings.recording import RecordingSettings
from ..storage.errors import StorageError
from ..storage.recordings import HasRecordings, RecordingStore
from .ami import EVENTS, RecordingTrigger, active_uniqueids
from .ingest import Ingestor, IngestResult
from .retention import SweepReport, sweep
from .spool import sweep_spool
from .vault import Vault

log = logging.getLogger(__name__)


async def _ignore(_report: Any) -> None:
    return None


class RecordingWorker:
    def __init__(
        self,
        settings: RecordingSettings,
        store: RecordingStore[HasRecordings],
        vault: Vault,
        ingestor: Ingestor[Any],
        clock: Callable[[], datetime],
        on_ingest: Callable[[IngestResult], Awaitable[None]] = _ignore,
        sweeper: Callable[[datetime], Awaitable[SweepReport]] | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._vault = vault
        self._ingestor = ingestor
        self._clock = clock
        self._on_ingest = on_ingest
        self._sweeper = sweeper
        self._trigger = RecordingTrigger(
            Path(settings.spool_dir), self.ingest, settings.hangup_settle_s
        )
        self._ami_tls = settings.ami_tls_context()
        """Built here, before anything listens: a bad CA file stops the start."""
        self._manager: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._failing: set[str] = set()
        self.pending = 0
        """Recordings the last spool sweep left waiting (not settled yet, or failed)."""
        self.failures = 0
        """Spooled recordings whose ingest failed, since start."""

    async def start(self) -> None:
        s = self._settings
        if s.ami_secret:
            self._manager = Manager(
                host=s.ami_host,
                port=s.ami_port,
                username=s.ami_username,
                secret=s.ami_secret,
                ssl=self._ami_tls or False,
            )
            for event in EVENTS:
                self._manager.register_event(event, self._trigger.on_event)
            self._manager.connect()
        self._tasks.append(asyncio.create_task(self._every(s.spool_sweep_interval_s, self.spool)))
        if s.retention_sweep_interval_s > 0:
            self._tasks.append(
                asyncio.create_task(self._every(s.retention_sweep_interval_s, self.retention))
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._trigger.stop()
        if self._manager is not None:
            self._manager.close()

    async def _every(self, interval_s: int, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` now and then every ``interval_s`` (0: only now)."""
        while True:
            await self._guarded(job)
            if interval_s <= 0:
                return
            await asyncio.sleep(interval_s)

    async def _guarded(self, job: Callable[[], Awaitable[None]]) -> None:
        name = getattr(job, "__name__", "job")
        try:
            await job()
        except (StorageError, OSError) as exc:
            if name not in self._failing:
                log.error("recording %s sweep failing: %s", name, exc)
                self._failing.add(name)
            return
        if name in self._failing:
            log.info("recording %s sweep working again", name)
            self._failing.discard(name)

    async def _active(self) -> frozenset[str] | None:
        if self._manager is None or not self._manager.authenticated:
            return None
        try:
            reply = await asyncio.wait_for(
                self._manager.send_action({"Action": "CoreShowChannels"}), timeout=10
            )
        except (TimeoutError, OSError, AttributeError) as exc:
            # AttributeError: panoramisk between connections has no protocol.
            log.warning("no active-channel list from AMI (%s): sweeping by age only", exc)
            return None
        return active_uniqueids(reply)

    async def ingest(self, path: Path) -> IngestResult:
        result = await self._ingestor.ingest(path)
        await self._on_ingest(result)
        return result

    async def spool(self) -> None:
        s = self._settings
        report = await sweep_spool(
            Path(s.spool_dir),
            self.ingest,
            self._clock(),
            await self._active(),
            timedelta(seconds=s.spool_min_age_s),
            timedelta(seconds=s.spool_orphan_age_s),
        )
        self.pending = len(report.waiting)
        self.failures += len(report.failed)
        for name, error in report.failed:
            log.error("recording %s not ingested: %s", name, error)

    async def retention(self) -> None:
        now = self._clock()
        if self._sweeper is None:
            report = await sweep(self._store, self._vault, now)
        else:
            report = await self._sweeper(now)
        for failure in report.failures:
            log.error("recording %s not deleted: %s", failure.recording_id, failure.error)

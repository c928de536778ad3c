"""Recording as ``dialguard serve`` runs it: the vault, ingestor and worker assembled from the
settings, every ingest and retention deletion audited (:mod:`dialguard.ops.recordings`), and the
sink the FreeSWITCH gate hands finished recordings to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ..policy.pack import RulePack
from ..recording.freeswitch import VaultRecordingSink
from ..recording.ingest import Ingestor, IngestResult, Outcome
from ..recording.keys import KeyringError
from ..recording.retention import RetentionPolicy, SweepReport
from ..recording.vault import open_vault
from ..recording.worker import RecordingWorker
from ..settings.recording import RecordingSettings
from ..storage.store import Store
from .audited import Actor
from .recordings import ingest_hook, sweep

ACTOR = "dialguard-serve"

log = logging.getLogger("dialguard.recording")


class RecordingRuntime:
    """Built before any transport listens, so a bad keyring or region map stops the start."""

    def __init__(
        self,
        settings: RecordingSettings,
        store: Store,
        pack: RulePack,
        clock: Callable[[], datetime],
        region: str = "CN",
    ) -> None:
        """``region``: where national numbers typed in free text are read (audit masking)."""
        try:
            vault = open_vault(settings)
        except KeyringError as exc:
            raise KeyringError(
                f"recording is enabled but its keyring cannot be loaded: {exc}; "
                "or set recording.enabled = false to run without recording"
            ) from None
        self._store = store
        self._vault = vault
        self._clock = clock
        self._region = region
        ingestor = Ingestor(
            store,
            vault,
            RetentionPolicy.from_pack(pack),
            settings.region_for,
            clock,
            then=ingest_hook(self._actor),
        )
        self.worker = RecordingWorker(
            settings, store, vault, ingestor, clock, _log_ingest, self._sweep
        )
        self.sink = VaultRecordingSink(self.worker.ingest)

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    async def _sweep(self, now: datetime) -> SweepReport:
        return await sweep(self._store, self._actor(now), self._vault)

    def _actor(self, now: datetime | None = None) -> Actor:
        return Actor(ACTOR, now or self._clock(), self._region)


async def _log_ingest(result: IngestResult) -> None:
    if result.outcome is Outcome.INGESTED:
        rec = result.recording
        log.info(
            "recording ingested",
            extra={"fields": {"recording": rec.id, "name": rec.name, "region": rec.region}},
        )

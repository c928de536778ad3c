"""Recording as ``dialguard serve`` runs it: the vault, ingestor and worker assembled from the
settings, every ingest and retention deletion appended to the audit log, and the sink the
FreeSWITCH gate hands finished recordings to. :func:`open_vault` is shared with the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..policy.pack import RulePack
from ..storage.store import Store, Transaction
from ..views import jsonable
from .freeswitch import VaultRecordingSink
from .ingest import Ingestor, IngestResult, Outcome
from .keys import KeyringError, load_keyring
from .records import Recording
from .retention import Deletion, RetentionPolicy
from .settings import RecordingSettings
from .vault import Vault
from .views import recording_view
from .worker import RecordingWorker

ACTOR = "dialguard-serve"

log = logging.getLogger("dialguard.recording")


def open_vault(settings: RecordingSettings) -> Vault:
    """The vault over every configured region, its keyring loaded; checks the tenant map too."""
    settings.tenant_region_map()
    return Vault(settings.regions_map(), load_keyring(Path(settings.keyring_file)))


class RecordingRuntime:
    """Built before any transport listens, so a bad keyring or region map stops the start."""

    def __init__(
        self,
        settings: RecordingSettings,
        store: Store,
        pack: RulePack,
        clock: Callable[[], datetime],
    ) -> None:
        try:
            vault = open_vault(settings)
        except KeyringError as exc:
            raise KeyringError(
                f"recording is enabled but its keyring cannot be loaded: {exc}; "
                "or set recording.enabled = false to run without recording"
            ) from None
        ingestor = Ingestor(
            store,
            vault,
            RetentionPolicy.from_pack(pack),
            settings.region_for,
            clock,
            then=audit_ingest,
        )
        self.worker = RecordingWorker(
            settings, store, vault, ingestor, clock, _log_ingest, audit_deletion
        )
        self.sink = VaultRecordingSink(self.worker.ingest)

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()


async def audit_ingest(tx: Transaction, rec: Recording) -> None:
    """The ingest's audit entry, in the transaction that adds the row it vouches for."""
    detail = {"after": recording_view(rec), "evidence": await tx.evidence.changed()}
    await tx.audit.append(ACTOR, "recording.ingest", str(rec.id), detail)


async def audit_deletion(tx: Transaction, deletion: Deletion) -> None:
    """A retention deletion's audit entry, in the transaction that tombstones the row."""
    detail = {**jsonable(deletion), "evidence": await tx.evidence.changed()}
    await tx.audit.append(ACTOR, "recording.delete", str(deletion.recording_id), detail)


async def _log_ingest(result: IngestResult) -> None:
    if result.outcome is Outcome.INGESTED:
        rec = result.recording
        log.info(
            "recording ingested",
            extra={"fields": {"recording": rec.id, "name": rec.name, "region": rec.region}},
        )

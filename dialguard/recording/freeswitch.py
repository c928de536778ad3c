"""The FreeSWITCH side: the ESL session's :class:`~dialguard.esl.recording.RecordingSink`.

The session calls :meth:`VaultRecordingSink.recording_finished` on ``RECORD_STOP`` for the file
dialguard started, i.e. after FreeSWITCH closed it, so it is ingested at once. A failure leaves
the file where FreeSWITCH wrote it; the spool sweep (pointed at that directory) retries it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from .ingest import IngestError, IngestResult
from .retention import UnknownRetentionClass

log = logging.getLogger(__name__)


class VaultRecordingSink:
    def __init__(self, ingest: Callable[[Path], Awaitable[IngestResult]]) -> None:
        self._ingest = ingest

    async def recording_finished(
        self,
        decision_id: str,
        uniqueid: str,
        path: str,
        started: datetime | None,
        ended: datetime | None,
    ) -> None:
        """``started``/``ended`` are not used: the vault takes the end from the file and the
        length from the WAV header, the same for both PBXs."""
        del started, ended
        try:
            await self._ingest(Path(path))
        except (IngestError, UnknownRetentionClass, OSError) as exc:
            log.error(
                "recording %s (decision %s, channel %s) not ingested: %s",
                path,
                decision_id,
                uniqueid,
                exc,
            )

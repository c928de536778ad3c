"""The AMI side: which events mean a recording is finished, and the active-channel list.

Asterisk 22 (``app_mixmonitor.c``) raises ``MixMonitorStop`` only from ``StopMixMonitor``, after
closing the file; when the channel simply hangs up, MixMonitor's own thread closes the file
shortly after the channel goes, and no event says so. Hence:

* ``MixMonitorStop`` with ``Uniqueid: U`` → ingest ``dg-U.wav`` at once;
* ``Hangup`` with ``Uniqueid: U`` → once ``dg-U.wav`` is unchanged for ``hangup_settle_s``,
  ingest it (no more audio can arrive; the wait covers the close and the header update).

Dialplans that stop the recording in a hangup handler (``StopMixMonitor()``) get the first path
for every call. :class:`RecordingTrigger` holds no socket: tests feed it events as dicts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from .ingest import IngestError, IngestResult
from .retention import UnknownRetentionClass

log = logging.getLogger(__name__)

EVENTS = ("MixMonitorStop", "Hangup")


async def wait_until_settled(path: Path, settle_s: float) -> None:
    """Return once ``path``'s size and mtime stay the same across ``settle_s`` seconds."""
    before = await asyncio.to_thread(path.stat)
    while True:
        await asyncio.sleep(settle_s)
        after = await asyncio.to_thread(path.stat)
        if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
            return
        before = after


class RecordingTrigger:
    def __init__(
        self,
        spool_dir: Path,
        ingest: Callable[[Path], Awaitable[IngestResult]],
        hangup_settle_s: float,
    ) -> None:
        self._spool_dir = spool_dir
        self._ingest = ingest
        self._settle_s = hangup_settle_s
        self._tasks: set[asyncio.Task[IngestResult | None]] = set()

    async def handle(self, event: Mapping[str, Any]) -> IngestResult | None:
        """Ingest the recording ``event`` says is finished; None if it names none of ours."""
        name, uniqueid = event.get("Event"), str(event.get("Uniqueid") or "")
        if name not in EVENTS or not uniqueid or "/" in uniqueid:
            return None
        path = self._spool_dir / f"dg-{uniqueid}.wav"
        try:
            if name == "Hangup":
                await wait_until_settled(path, self._settle_s)
            return await self._ingest(path)
        except FileNotFoundError:
            return None  # no recording on this channel, or already ingested
        except (IngestError, UnknownRetentionClass, OSError) as exc:
            # Left in the spool: the sweep retries it.
            log.error("recording %s not ingested: %s", path.name, exc)
            return None

    def on_event(self, _manager: object, event: Mapping[str, Any]) -> None:
        """The panoramisk callback: runs :meth:`handle` as a task tracked for :meth:`stop`."""
        task = asyncio.get_running_loop().create_task(self.handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def active_uniqueids(responses: Any) -> frozenset[str]:
    """The uniqueids in a ``CoreShowChannels`` reply (the list panoramisk returns)."""
    messages = responses if isinstance(responses, list) else [responses]
    return frozenset(
        str(m["Uniqueid"])
        for m in messages
        if m.get("Event") == "CoreShowChannel" and m.get("Uniqueid")
    )

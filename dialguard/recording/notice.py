"""The PBX's report of the recording notice, ``dg-<key>.notice`` beside ``dg-<key>.wav``.

One line, ``played <sound>`` or ``missing <sound>``. On Asterisk the snippet's
``dialguard-answered`` writes it before it starts MixMonitor; on FreeSWITCH the ESL gate writes
it (:func:`write_notice`) once the recording has stopped, from the callee leg's playback event.
The ingest stores it on the vault entry and removes it with the spool file. No I/O at import and
no storage imports: the ESL session writes reports without pulling in the vault.
"""

from __future__ import annotations

from pathlib import Path

from ..files.durable import atomic_write, remove_durably
from ..storage.recording_records import Notice, NoticeStatus

NOTICE_SUFFIX = ".notice"
_NOTICE_MAX_BYTES = 512


def notice_file(spool_file: Path) -> Path:
    return spool_file.with_suffix(NOTICE_SUFFIX)


def read_notice(spool_file: Path) -> Notice | None:
    """The notice the PBX reported for ``spool_file``; None when there is no such file (no notice
    was required). Anything but ``played <sound>`` counts as missing: the entry is flagged."""
    try:
        with notice_file(spool_file).open("rb") as handle:
            raw = handle.read(_NOTICE_MAX_BYTES).decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    word, _, prompt = raw.strip().partition(" ")
    status = NoticeStatus.PLAYED if word == "played" else NoticeStatus.MISSING
    return Notice(status, prompt.strip()[:200])


def write_notice(spool_file: Path, played: bool, sound: str) -> None:
    """Report, durably and whole, whether ``sound`` played before ``spool_file`` was recorded.
    Blocking: run it in a thread."""
    status = NoticeStatus.PLAYED if played else NoticeStatus.MISSING
    line = f"{status.value} {sound}\n".encode()
    atomic_write(notice_file(spool_file), lambda handle: handle.write(line))


def remove_notice(spool_file: Path) -> None:
    remove_durably(notice_file(spool_file))

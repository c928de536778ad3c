"""The notice report beside a recording: what the ESL gate writes is what the ingest reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialguard.recording.notice import notice_file, read_notice, remove_notice, write_notice
from dialguard.storage.recording_records import Notice, NoticeStatus


@pytest.mark.parametrize(("played", "status"), [(True, "played"), (False, "missing")])
def test_written_then_read(tmp_path: Path, played: bool, status: str) -> None:
    spool = tmp_path / "dg-8f1c.wav"
    write_notice(spool, played, "tone_stream://%(500,0,1000)")
    assert notice_file(spool).read_text() == f"{status} tone_stream://%(500,0,1000)\n"
    assert read_notice(spool) == Notice(NoticeStatus(status), "tone_stream://%(500,0,1000)")
    assert [p.name for p in tmp_path.iterdir()] == ["dg-8f1c.notice"]  # no temp file left
    remove_notice(spool)
    assert read_notice(spool) is None


def test_anything_but_played_is_missing(tmp_path: Path) -> None:
    spool = tmp_path / "dg-1.wav"
    notice_file(spool).write_bytes(b"\xffplayed? /x.wav")
    assert read_notice(spool) == Notice(NoticeStatus.MISSING, "/x.wav")

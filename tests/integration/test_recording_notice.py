"""The recording notice the PBX reports beside a recording (``dg-<id>.notice``) reaches the vault
entry: ``played``, ``missing`` (flagged), or nothing when no notice was required."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialguard.ops.recording_testing import Rig, make_rig, write_wav
from dialguard.policy.model import Decision
from dialguard.recording.ingest import Outcome
from dialguard.recording.views import recording_view
from dialguard.storage import Store
from dialguard.storage.recording_records import Notice, NoticeStatus, Recording

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)
UID = "1717383600.42"


@pytest.fixture
async def rig(store: Store, tmp_path: Path) -> AsyncIterator[Rig]:
    yield make_rig(store, tmp_path, NOW)


async def _ingest(
    rig: Rig, store: Store, make_decision: Callable[..., Decision], notice: str | None
) -> Recording:
    async with store.transaction() as tx:
        await tx.decisions.add_many([make_decision(record=True, call_id=UID)])
    wav = rig.spool / f"dg-{UID}.wav"
    write_wav(wav, 1.0)
    if notice is not None:
        (rig.spool / f"dg-{UID}.notice").write_text(notice)
    result = await rig.ingestor.ingest(wav)
    assert result.outcome is Outcome.INGESTED
    assert not (rig.spool / f"dg-{UID}.notice").exists()
    async with store.transaction(readonly=True) as tx:
        stored = await tx.recordings.get_by_name(f"dg-{UID}")
    assert stored == result.recording
    return stored


@pytest.mark.parametrize(
    ("reported", "notice", "view"),
    [
        ("played beep", Notice(NoticeStatus.PLAYED, "beep"), "played"),
        ("played custom/notice\n", Notice(NoticeStatus.PLAYED, "custom/notice"), "played"),
        ("missing custom/notice", Notice(NoticeStatus.MISSING, "custom/notice"), "missing"),
        ("garbage", Notice(NoticeStatus.MISSING, ""), "missing"),
        ("", Notice(NoticeStatus.MISSING, ""), "missing"),
    ],
)
async def test_the_reported_notice_is_on_the_vault_entry(
    rig: Rig,
    store: Store,
    make_decision: Callable[..., Decision],
    reported: str,
    notice: Notice,
    view: str,
) -> None:
    rec = await _ingest(rig, store, make_decision, reported)
    assert rec.notice == notice
    assert recording_view(rec)["notice"] == view
    assert recording_view(rec)["notice_prompt"] == notice.prompt


async def test_no_report_means_no_notice_was_required(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    rec = await _ingest(rig, store, make_decision, None)
    assert rec.notice is None
    assert recording_view(rec)["notice"] is None

"""Pure rules: settings parsing, retention terms, the spool sweep's readiness rule, AMI events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dialguard.config import ConfigError
from dialguard.esl.recording import RecordingSink
from dialguard.policy.book import load_pack
from dialguard.policy.pack import RetentionClass
from dialguard.recording.ami import RecordingTrigger, active_uniqueids
from dialguard.recording.freeswitch import VaultRecordingSink
from dialguard.recording.ingest import (
    IngestResult,
    NoDecision,
    Outcome,
    spool_key,
    vault_relpath,
)
from dialguard.recording.retention import RetentionPolicy, UnknownRetentionClass
from dialguard.recording.spool import ready
from dialguard.settings.recording import RecordingSettings
from dialguard.storage.recording_records import CallSource

END = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)


def test_regions_and_tenants_parse() -> None:
    s = RecordingSettings(regions="cn=/v/cn, eu=/v/eu", tenant_regions="globex=eu")
    assert s.regions_map() == {"cn": Path("/v/cn"), "eu": Path("/v/eu")}
    assert s.region_for("globex") == "eu"
    assert s.region_for("acme") == "cn"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"regions": ""}, "at least one"),
        ({"regions": "cn=relative"}, "must be absolute"),
        ({"regions": "cn=/v,eu=/v/eu"}, "overlap"),
        ({"regions": "cn=/v/cn,cn=/w"}, "twice"),
        ({"regions": "eu=/v/eu"}, "default_region"),
        ({"tenant_regions": "acme=us"}, "acme=us"),
        ({"tenant_regions": "acme"}, "name=value"),
    ],
)
def test_bad_region_settings_name_the_key(changes: dict[str, Any], message: str) -> None:
    settings = RecordingSettings(**changes)
    with pytest.raises(ConfigError, match=message):
        settings.tenant_region_map()


def test_terms_from_the_shipped_pack() -> None:
    policy = RetentionPolicy.from_pack(load_pack("cn"))
    default = policy.terms_for(None, END)
    assert (default.retention_class, default.min_days) == ("default", 30)
    assert default.retain_until == END + timedelta(days=30)
    assert "MIIT" in default.legal_basis
    finance = policy.terms_for("finance", END)
    assert finance.retain_until == END + timedelta(days=1826)
    with pytest.raises(UnknownRetentionClass):
        policy.terms_for("nope", END)


def test_a_later_anchor_keeps_the_recording_until_it_is_set() -> None:
    policy = RetentionPolicy(
        {"insurance": RetentionClass("insurance", 1826, "contract + 5y", "contract_end")},
        "insurance",
    )
    terms = policy.terms_for(None, END)
    assert terms.anchor_event == "contract_end"
    assert terms.anchor_at is None and terms.retain_until is None


def test_spool_names() -> None:
    assert spool_key(Path("dg-1754470000.7.wav")) == ("dg-1754470000.7", "1754470000.7")
    for other in ("dg-.wav", "x-1.wav", "dg-1.wav.tmp", "dg-../x.wav", ".dg-1.wav"):
        assert spool_key(Path(other)) is None


def test_tenant_names_unfit_for_paths_are_hashed() -> None:
    source = CallSource("d", "1.2", "+8621", "+8613", "../etc", None, END)
    path = vault_relpath(source, "dg-1.2")
    assert path.startswith("t-") and path.endswith("/2024/06/03/dg-1.2.dgr") and ".." not in path


MIN, ORPHAN = timedelta(seconds=60), timedelta(hours=6)


@pytest.mark.parametrize(
    ("key", "age_s", "active", "expected"),
    [
        ("1754470000.7", 61, frozenset(), True),
        ("1754470000.7", 59, frozenset(), False),
        ("1754470000.7", 7200, frozenset({"1754470000.7"}), False),  # silent, still up
        ("1754470000.7", 7200, None, False),  # no channel list: wait for the orphan age
        ("1754470000.7", 6 * 3600, None, True),
        ("6f1c9a52-decision-id", 61, frozenset(), False),  # not a uniqueid: orphan age
    ],
)
def test_sweep_readiness(
    key: str, age_s: int, active: frozenset[str] | None, expected: bool
) -> None:
    now = END + timedelta(hours=12)
    assert ready(key, now - timedelta(seconds=age_s), now, active, MIN, ORPHAN) is expected


def test_active_channels_from_core_show_channels() -> None:
    reply = [
        {"Response": "Success", "EventList": "start"},
        {"Event": "CoreShowChannel", "Uniqueid": "1.1"},
        {"Event": "CoreShowChannel", "Uniqueid": "1.2"},
        {"Event": "CoreShowChannelsComplete"},
    ]
    assert active_uniqueids(reply) == {"1.1", "1.2"}


async def test_trigger_ingests_on_mixmonitor_stop_and_hangup(tmp_path: Path) -> None:
    seen: list[str] = []

    async def ingest(path: Path) -> IngestResult:
        seen.append(path.name)
        return IngestResult(Outcome.INGESTED, None)  # type: ignore[arg-type]

    trigger = RecordingTrigger(tmp_path, ingest, hangup_settle_s=0)
    (tmp_path / "dg-1.1.wav").write_bytes(b"a")
    (tmp_path / "dg-1.2.wav").write_bytes(b"b")
    assert await trigger.handle({"Event": "MixMonitorStop", "Uniqueid": "1.1"}) is not None
    assert await trigger.handle({"Event": "Hangup", "Uniqueid": "1.2"}) is not None
    assert await trigger.handle({"Event": "Hangup", "Uniqueid": "1.3"}) is None  # no file
    assert await trigger.handle({"Event": "Newchannel", "Uniqueid": "1.1"}) is None
    assert await trigger.handle({"Event": "Hangup", "Uniqueid": "../x"}) is None
    assert seen == ["dg-1.1.wav", "dg-1.2.wav"]


async def test_freeswitch_sink_ingests_the_stopped_file_and_survives_failures(
    tmp_path: Path,
) -> None:
    seen: list[Path] = []

    async def ingest(path: Path) -> IngestResult:
        seen.append(path)
        raise NoDecision("no decision")

    sink: RecordingSink = VaultRecordingSink(ingest)
    await sink.recording_finished("d-1", "u-1", str(tmp_path / "dg-d-1.wav"), None, None)
    assert seen == [tmp_path / "dg-d-1.wav"]

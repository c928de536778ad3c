"""The recording CLI (in-process, as a fresh process would run it): ``init`` creates the
keyring, ``recordings verify`` names tampered and missing recordings with a non-zero exit,
``retention sweep --dry-run`` deletes nothing, legal holds land in the history, and bad input
exits 2 naming it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import Run
from in_process import run_dialguard
from pg_databases import settings_for

from dialguard.ops.recording_testing import make_rig, write_wav
from dialguard.policy.model import Decision
from dialguard.storage import Store

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)
UIDS = ("1717383600.1", "1717383600.2", "1717383600.3")


@pytest.fixture
def dg_env(dg_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The conftest's, with the vault and keyring laid out as ``make_rig``'s."""
    return dg_env | {
        "DIALGUARD_RECORDING_KEYRING_FILE": str(tmp_path / "keys.json"),
        "DIALGUARD_RECORDING_REGIONS": f"cn={tmp_path / 'vault-cn'},eu={tmp_path / 'vault-eu'}",
        "DIALGUARD_RECORDING_TENANT_REGIONS": "globex=eu",
    }


def test_init_creates_the_keyring(dg_env: dict[str, str], tmp_path: Path) -> None:
    assert "recording keyring created" in run_dialguard(["init"], env=dg_env).stdout
    assert (tmp_path / "keys.json").is_file()


def ingest(tmp_path: Path, decisions: list[Decision]) -> list[int]:
    """Recordings of ``decisions`` (call ids from ``UIDS``) ingested into the CLI's vault."""

    async def _ingest() -> list[int]:
        url = f"sqlite+aiosqlite:///{tmp_path}/dg.db"
        store = await Store.open(settings_for(url))
        try:
            async with store.transaction() as tx:
                await tx.tenants.ensure("acme")
                await tx.decisions.add_many(decisions)
            rig = make_rig(store, tmp_path, NOW)
            ids = []
            for decision in decisions:
                spool_file = rig.spool / f"dg-{decision.attempt.call_id}.wav"
                write_wav(spool_file, 0.5)
                ids.append((await rig.ingestor.ingest(spool_file)).recording.id)
            return ids
        finally:
            await store.close()

    return asyncio.run(_ingest())


def vault_file(dg: Run, recording_id: int, tmp_path: Path) -> Path:
    shown = json.loads(dg("recordings", "show", str(recording_id), "--json").stdout)
    return tmp_path / f"vault-{shown['region']}" / str(shown["vault_path"])


def test_verify_names_tampered_and_missing_recordings(
    dg: Run, tmp_path: Path, make_decision: Callable[..., Decision]
) -> None:
    ok, tampered, missing = ingest(
        tmp_path, [make_decision(record=True, call_id=uid) for uid in UIDS]
    )
    assert "3 verified" in dg("recordings", "verify", "--all").stdout

    target = vault_file(dg, tampered, tmp_path)
    data = bytearray(target.read_bytes())
    data[-40] ^= 0x01
    target.write_bytes(bytes(data))
    vault_file(dg, missing, tmp_path).unlink()

    failed = dg("recordings", "verify", "--all", expect=1)
    assert f"{tampered} (tampered)" in failed.stderr and f"{missing} (missing)" in failed.stderr
    assert f"{ok} (" not in failed.stderr
    dg("recordings", "verify", str(ok))
    dg("recordings", "verify", str(tampered), expect=1)
    exported = dg("recordings", "export", str(tampered), "--out", str(tmp_path / "t.wav"), expect=1)
    assert "tampered" in exported.stderr and not (tmp_path / "t.wav").exists()
    assert "no recording 99" in dg("recordings", "verify", "99", expect=2).stderr


def test_export_refuses_the_vault_the_spool_and_an_existing_file_without_force(
    dg: Run, tmp_path: Path, make_decision: Callable[..., Decision]
) -> None:
    first, second = ingest(tmp_path, [make_decision(record=True, call_id=uid) for uid in UIDS[:2]])
    victim = vault_file(dg, second, tmp_path)
    sealed = victim.read_bytes()
    into_vault = dg("recordings", "export", str(first), "--out", str(victim), "--force", expect=2)
    assert "inside the vault of region 'cn'" in into_vault.stderr
    assert victim.read_bytes() == sealed
    spool = tmp_path / "spool"
    into_spool = dg(
        "recordings", "export", str(first), "--out", str(spool / "dg-x.wav"), expect=2,
        DIALGUARD_RECORDING_SPOOL_DIR=str(spool),
    )  # fmt: skip
    assert "inside the recording spool" in into_spool.stderr and not list(spool.iterdir())
    for alias, target in [("to-vault", victim.parent), ("to-spool", spool)]:
        (tmp_path / alias).symlink_to(target, target_is_directory=True)
        name = victim.name if alias == "to-vault" else "dg-y.wav"
        through = dg(
            "recordings", "export", str(first), "--out", str(tmp_path / alias / name), "--force",
            expect=2, DIALGUARD_RECORDING_SPOOL_DIR=str(spool),
        )  # fmt: skip
        assert "inside the" in through.stderr, through.stderr
    assert victim.read_bytes() == sealed and not list(spool.iterdir())

    out = tmp_path / "call.wav"
    out.write_bytes(b"keep me")
    assert "exists" in dg("recordings", "export", str(first), "--out", str(out), expect=2).stderr
    assert out.read_bytes() == b"keep me"
    replaced = dg("recordings", "export", str(first), "--out", str(out), "--force")
    assert "(replaced)" in replaced.stdout and out.read_bytes() != b"keep me"
    audited = json.loads(dg("audit", "tail", "--json").stdout)
    exports = [e for e in audited if e["action"] == "recording.export"]
    assert [e["detail"]["replaced"] for e in exports] == [True]


def test_sweep_dry_run_deletes_nothing_and_holds_are_audited(
    dg: Run, tmp_path: Path, make_decision: Callable[..., Decision]
) -> None:
    ids = ingest(tmp_path, [make_decision(record=True, call_id=uid) for uid in UIDS[:2]])
    held = str(ids[0])
    dg("recordings", "hold", held, "--reason", "litigation 2024-17")
    later = "2030-01-01T00:00:00+00:00"  # past every 30-day retention

    dry = json.loads(dg("retention", "sweep", "--dry-run", "--json", DIALGUARD_NOW=later).stdout)
    assert [d["recording_id"] for d in dry["deletions"]] == ids[1:]  # not the held one
    assert dry["dry_run"] and all(d["deleted_hash"] is None for d in dry["deletions"])
    listed = json.loads(dg("recordings", "list", "--json").stdout)
    assert sorted(r["id"] for r in listed) == sorted(ids)
    assert all(r["deleted_at"] is None for r in listed)
    assert "2 verified" in dg("recordings", "verify", "--all").stdout

    refused = dg("retention", "sweep", DIALGUARD_NOW=later, expect=2)
    assert "DIALGUARD_NOW" in refused.stderr
    shown = json.loads(dg("recordings", "show", held, "--json").stdout)
    assert shown["legal_hold"] and shown["hold_by"] == "test-admin"
    assert [(e["action"], e["reason"]) for e in shown["events"]] == [("hold", "litigation 2024-17")]
    assert "no recording 99" in dg("recordings", "hold", "99", "--reason", "x", expect=2).stderr
    bad_date = dg("recordings", "anchor", held, "--at", "someday", "--reason", "x", expect=2)
    assert "--at" in bad_date.stderr
    assert "already exists" in dg("keys", "init", expect=2).stderr

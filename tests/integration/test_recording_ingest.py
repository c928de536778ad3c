"""Ingest → vault → verify/export on the real storage, region confinement and key rotation."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.tls import write_pki
from dialguard.config import ConfigError
from dialguard.ops.recording_testing import Rig, make_rig, write_wav
from dialguard.policy.model import Decision
from dialguard.recording import container
from dialguard.recording.ingest import IngestResult, NoDecision, Outcome, SpoolConflict
from dialguard.recording.integrity import (
    ExportRefused,
    Integrity,
    IntegrityError,
    export,
    verify,
)
from dialguard.recording.rotation import rotate
from dialguard.recording.spool import sweep_spool
from dialguard.recording.worker import RecordingWorker
from dialguard.settings.recording import RecordingSettings
from dialguard.storage import Store
from dialguard.storage.recording_records import Recording

NOW = datetime(2024, 6, 3, 3, 0, tzinfo=UTC)
UID = "1717383600.42"


@pytest.fixture
async def rig(store: Store, tmp_path: Path) -> AsyncIterator[Rig]:
    yield make_rig(store, tmp_path, NOW)


async def add_decision(
    store: Store, make_decision: Callable[..., Decision], **kw: object
) -> Decision:
    decision = make_decision(record=True, **{"call_id": UID, **kw})
    async with store.transaction() as tx:
        await tx.decisions.add_many([decision])
    return decision


async def ingest_one(rig: Rig, name: str = f"dg-{UID}", seconds: float = 1.5) -> Recording:
    wav = write_wav(rig.spool / f"{name}.wav", seconds)
    result = await rig.ingestor.ingest(rig.spool / f"{name}.wav")
    assert result.outcome is Outcome.INGESTED
    assert result.recording.sha256 == hashlib.sha256(wav).hexdigest()
    return result.recording


async def two_recordings(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> tuple[Recording, Recording]:
    """Two calls' recordings in the vault, of different lengths."""
    await add_decision(store, make_decision)
    await add_decision(store, make_decision, call_id="1717383600.43")
    return await ingest_one(rig), await ingest_one(rig, "dg-1717383600.43", seconds=0.5)


async def test_ingest_round_trip(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    decision = await add_decision(store, make_decision, retention_class="finance")
    rec = await ingest_one(rig)
    assert not (rig.spool / f"dg-{UID}.wav").exists()
    assert (rec.decision_id, rec.caller, rec.callee, rec.tenant) == (
        decision.decision_id,
        "+862161234567",
        "+8613800138000",
        "acme",
    )
    assert rec.duration_ms == 1500 and rec.region == "cn"
    assert rec.ended_at - rec.started_at == timedelta(milliseconds=1500)
    assert rec.terms.retention_class == "finance" and rec.terms.min_days == 1826
    assert rec.terms.retain_until == rec.ended_at + timedelta(days=1826)
    assert rec.key_id == rig.vault.keyring.current
    assert verify(rig.vault, rec).status is Integrity.OK
    out = rig.spool.parent / "exports" / "out.wav"
    result = export(rig.vault, rec, out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == rec.sha256
    assert not result.replaced


async def test_verify_tells_tampering_from_substitution(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    rec, other = await two_recordings(rig, store, make_decision)
    path = rig.vault.path(rec.region, rec.vault_path)
    original = path.read_bytes()

    damaged = bytearray(original)
    damaged[-100] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert verify(rig.vault, rec).status is Integrity.TAMPERED
    path.write_bytes(original[:-4096])
    assert verify(rig.vault, rec).status is Integrity.TAMPERED
    path.write_bytes(rig.vault.path(other.region, other.vault_path).read_bytes())
    assert verify(rig.vault, rec).status is Integrity.HASH_MISMATCH
    out = rig.spool.parent / "x.wav"
    with pytest.raises(IntegrityError):
        export(rig.vault, rec, out)
    assert not out.exists() and not list(out.parent.glob(".x.wav.*"))
    path.unlink()
    assert verify(rig.vault, rec).status is Integrity.MISSING


async def test_recordings_stay_in_their_region(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    await add_decision(store, make_decision, tenant="globex")
    rec = await ingest_one(rig)
    assert rec.region == "eu"
    assert rig.vault.path("eu", rec.vault_path).is_file()
    assert not any(p.is_file() for p in rig.vault.roots["cn"].rglob("*"))


async def test_export_never_writes_into_the_vault_or_a_spool(
    rig: Rig, store: Store, make_decision: Callable[..., Decision], tmp_path: Path
) -> None:
    """A decrypted export over another recording's vault file would replace its evidence with
    plaintext; one in a spool would be ingested as a new recording."""
    rec, other = await two_recordings(rig, store, make_decision)
    victim = rig.vault.path(other.region, other.vault_path)
    sealed = victim.read_bytes()
    (tmp_path / "to-vault").symlink_to(rig.vault.roots["cn"])
    (tmp_path / "to-victim.wav").symlink_to(victim)
    refused = {
        "another recording's vault file": victim,
        "its own region's root": rig.vault.roots["cn"] / "exports" / "x.wav",
        "another region's root": rig.vault.roots["eu"] / "x.wav",
        "a directory linked into the vault": tmp_path / "to-vault" / "x.wav",
        "a link to a vault file": tmp_path / "to-victim.wav",
        "the spool": rig.spool / "dg-1717383600.99.wav",
    }
    for why, out in refused.items():
        for force in (False, True):
            with pytest.raises(ExportRefused, match=r"inside the (vault|recording spool)"):
                export(rig.vault, rec, out, protected=(rig.spool,), replace=force)
            assert victim.read_bytes() == sealed, why
    assert not (rig.vault.roots["cn"] / "exports").exists()
    assert not rig.vault.roots["eu"].exists()
    assert [p.name for p in rig.spool.iterdir()] == []
    assert verify(rig.vault, other).status is Integrity.OK


async def test_export_replaces_an_existing_file_only_when_told(
    rig: Rig, store: Store, make_decision: Callable[..., Decision], tmp_path: Path
) -> None:
    await add_decision(store, make_decision)
    rec = await ingest_one(rig)
    out = tmp_path / "exports" / "call.wav"
    out.parent.mkdir()
    out.write_bytes(b"someone else's file")
    dangling = tmp_path / "exports" / "dangling.wav"
    dangling.symlink_to(tmp_path / "nowhere.wav")
    for existing in (out, dangling):
        with pytest.raises(ExportRefused, match="exists"):
            export(rig.vault, rec, existing)
    assert out.read_bytes() == b"someone else's file" and not (tmp_path / "nowhere.wav").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["call.wav", "dangling.wav"]
    result = export(rig.vault, rec, out, replace=True)
    assert result.replaced and hashlib.sha256(out.read_bytes()).hexdigest() == rec.sha256


async def test_ingest_is_idempotent(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    await add_decision(store, make_decision)
    wav = write_wav(rig.spool / f"dg-{UID}.wav", 1)
    (rig.spool / "leftover.wav").write_bytes(wav)
    first = await rig.ingestor.ingest(rig.spool / f"dg-{UID}.wav")
    (rig.spool / "leftover.wav").rename(rig.spool / f"dg-{UID}.wav")  # as if the unlink was lost
    again = await rig.ingestor.ingest(rig.spool / f"dg-{UID}.wav")
    assert again.outcome is Outcome.ALREADY_INGESTED and again.recording == first.recording
    assert not (rig.spool / f"dg-{UID}.wav").exists()
    async with rig.store.transaction() as tx:
        assert len(await tx.recordings.list()) == 1
    write_wav(rig.spool / f"dg-{UID}.wav", 2, seed=9)
    with pytest.raises(SpoolConflict):
        await rig.ingestor.ingest(rig.spool / f"dg-{UID}.wav")
    assert (rig.spool / f"dg-{UID}.wav").exists()


async def test_a_recording_without_a_decision_stays_in_the_spool(rig: Rig) -> None:
    write_wav(rig.spool / "dg-1.1.wav", 0.1)
    with pytest.raises(NoDecision):
        await rig.ingestor.ingest(rig.spool / "dg-1.1.wav")
    assert (rig.spool / "dg-1.1.wav").exists()


async def test_spool_sweep_skips_live_and_young_files(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    await add_decision(store, make_decision)
    await add_decision(store, make_decision, call_id="1717383600.43")
    write_wav(rig.spool / f"dg-{UID}.wav", 0.2)
    write_wav(rig.spool / "dg-1717383600.43.wav", 0.2)
    (rig.spool / "unrelated.wav").write_bytes(b"x")
    later = datetime.now(UTC) + timedelta(minutes=5)
    report = await sweep_spool(
        rig.spool,
        rig.ingestor.ingest,
        later,
        frozenset({"1717383600.43"}),
        timedelta(seconds=60),
        timedelta(hours=6),
    )
    assert [r.recording.name for r in report.ingested] == [f"dg-{UID}"]
    assert report.waiting == ("dg-1717383600.43.wav",) and report.failed == ()
    assert (rig.spool / "unrelated.wav").exists()


async def test_rotation_rewraps_without_touching_audio(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    await add_decision(store, make_decision)
    rec = await ingest_one(rig, seconds=3)
    path = rig.vault.path(rec.region, rec.vault_path)
    before = path.read_bytes()
    old_keyring = rig.vault.keyring
    report = await rotate(rig.store, rig.vault, Path(rig.settings.keyring_file), NOW)
    assert report.rewrapped == 1 and report.key_id != old_keyring.current
    after = path.read_bytes()
    assert container.key_id_of(io.BytesIO(after)) == report.key_id

    def body(blob: bytes) -> bytes:
        handle = io.BytesIO(blob)
        container.read_header(handle)
        return blob[handle.tell() :]

    assert body(after) == body(before)
    async with rig.store.transaction() as tx:
        updated = await tx.recordings.get(rec.id)
    assert updated is not None and updated.key_id == report.key_id
    assert verify(rig.vault, updated).ok
    assert old_keyring.current in rig.vault.keyring.keys  # old key kept: backups still open
    again = await rotate(rig.store, rig.vault, Path(rig.settings.keyring_file), NOW)
    assert again.rewrapped == 1 and verify(rig.vault, updated).ok


async def test_worker_sweeps_the_spool_on_start(
    rig: Rig, store: Store, make_decision: Callable[..., Decision]
) -> None:
    await add_decision(store, make_decision)
    write_wav(rig.spool / f"dg-{UID}.wav", 0.2)
    settings = replace(
        rig.settings, spool_sweep_interval_s=0, spool_orphan_age_s=0, retention_sweep_interval_s=0
    )
    results = await run_worker_until_ingest(rig, settings)
    assert [r.recording.name for r in results] == [f"dg-{UID}"]


async def run_worker_until_ingest(rig: Rig, settings: RecordingSettings) -> list[IngestResult]:
    """Run a recording worker with ``settings`` until it has ingested something; what it did."""
    done = asyncio.Event()
    results: list[IngestResult] = []

    async def on_ingest(result: IngestResult) -> None:
        results.append(result)
        done.set()

    worker = RecordingWorker(
        settings, rig.store, rig.vault, rig.ingestor, lambda: datetime.now(UTC), on_ingest
    )
    await worker.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await worker.stop()
    return results


async def test_the_ami_connection_can_use_asterisks_tls_manager_port(
    rig: Rig, store: Store, make_decision: Callable[..., Decision], tmp_path: Path
) -> None:
    """A fake Asterisk manager that speaks TLS only: the worker logs in over it with the CA
    given, and the MixMonitorStop event it sends gets the recording ingested."""
    pki = write_pki(tmp_path / "pki", ("localhost",))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(pki.cert_file, pki.key_file)
    actions: list[dict[str, str]] = []

    async def manager(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while block := await reader.readuntil(b"\r\n\r\n"):
                lines = block.decode().strip().split("\r\n")
                action = dict(line.split(": ", 1) for line in lines)
                actions.append(action)
                reply = f"Response: Success\r\nActionID: {action['ActionID']}\r\n\r\n"
                writer.write(reply.encode())
                if action["Action"] == "Login":
                    writer.write(f"Event: MixMonitorStop\r\nUniqueid: {UID}\r\n\r\n".encode())

    await add_decision(store, make_decision)
    write_wav(rig.spool / f"dg-{UID}.wav", 0.2)
    listening = await asyncio.start_server(manager, "127.0.0.1", 0, ssl=server_tls)
    settings = replace(
        rig.settings,
        ami_host="localhost",
        ami_port=listening.sockets[0].getsockname()[1],
        ami_secret="s3cret",
        ami_tls=True,
        ami_tls_ca_file=str(pki.ca_file),
        spool_orphan_age_s=3600,  # only the event may ingest it
        retention_sweep_interval_s=0,
    )
    try:
        await run_worker_until_ingest(rig, settings)
    finally:
        listening.close()
        await listening.wait_closed()
    login = actions[0]
    assert (login["Action"], login["Username"], login["Secret"]) == ("Login", "dialguard", "s3cret")
    assert not (rig.spool / f"dg-{UID}.wav").exists()


def test_ami_tls_settings_are_checked_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^recording\.ami_tls_ca_file: set recording\.ami_tls"):
        RecordingSettings(ami_tls_ca_file="/etc/ca.pem").ami_tls_context()
    with pytest.raises(ConfigError, match=r"^recording\.ami_tls_ca_file: cannot load"):
        RecordingSettings(
            ami_tls=True, ami_tls_ca_file=str(tmp_path / "none.pem")
        ).ami_tls_context()
    assert RecordingSettings().ami_tls_context() is None

"""The encrypted file format, the keyring and the vault's region confinement."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialguard.recording import container
from dialguard.recording.container import TAG_BYTES, Tampered
from dialguard.recording.keys import (
    Keyring,
    KeyringError,
    UnknownKey,
    create_keyring,
    load_keyring,
    save_keyring,
)
from dialguard.recording.vault import RegionViolation, Vault

NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
CHUNK = 1000
AUDIO = bytes((i * 7) % 251 for i in range(3500))  # three full chunks and a partial one


def sealed(keyring: Keyring, data: bytes = AUDIO) -> bytes:
    out = io.BytesIO()
    container.encrypt(io.BytesIO(data), out, keyring, CHUNK)
    return out.getvalue()


def opened(blob: bytes, keyring: Keyring) -> bytes:
    return b"".join(container.decrypt(io.BytesIO(blob), keyring))


def body_offset(blob: bytes) -> int:
    handle = io.BytesIO(blob)
    container.read_header(handle)
    return handle.tell()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate(NOW)


@pytest.mark.parametrize("data", [b"", b"x", AUDIO[:CHUNK], AUDIO])
def test_round_trip(keyring: Keyring, data: bytes) -> None:
    blob = sealed(keyring, data)
    assert len(data) < 16 or data[:16] not in blob  # encrypted, not copied
    assert opened(blob, keyring) == data


def test_a_changed_ciphertext_byte_is_tampering(keyring: Keyring) -> None:
    blob = bytearray(sealed(keyring))
    blob[body_offset(bytes(blob)) + 1500] ^= 0x01
    with pytest.raises(Tampered, match="chunk 1"):
        opened(bytes(blob), keyring)


@pytest.mark.parametrize("cut", [1, TAG_BYTES + 3, 500 + TAG_BYTES])
def test_truncation_is_tampering(keyring: Keyring, cut: int) -> None:
    blob = sealed(keyring)
    with pytest.raises(Tampered):
        opened(blob[:-cut], keyring)


def test_truncation_at_a_chunk_boundary_is_tampering(keyring: Keyring) -> None:
    blob = sealed(keyring)
    start = body_offset(blob)
    two_chunks = start + 2 * (CHUNK + TAG_BYTES)
    with pytest.raises(Tampered, match="chunk 1"):
        opened(blob[:two_chunks], keyring)


def test_swapped_chunks_are_tampering(keyring: Keyring) -> None:
    blob = sealed(keyring)
    start, size = body_offset(blob), CHUNK + TAG_BYTES
    first, second = blob[start : start + size], blob[start + size : start + 2 * size]
    swapped = blob[:start] + second + first + blob[start + 2 * size :]
    with pytest.raises(Tampered, match="chunk 0"):
        opened(swapped, keyring)


def test_appended_data_is_tampering(keyring: Keyring) -> None:
    with pytest.raises(Tampered):
        opened(sealed(keyring) + b"\0" * (CHUNK + TAG_BYTES), keyring)


@pytest.mark.parametrize("offset", [0, 4, 5, 9, 16])
def test_a_damaged_header_is_tampering(keyring: Keyring, offset: int) -> None:
    blob = bytearray(sealed(keyring))
    blob[offset] ^= 0x40
    with pytest.raises((Tampered, UnknownKey)):
        opened(bytes(blob), keyring)


def test_a_damaged_wrapped_key_is_tampering(keyring: Keyring) -> None:
    blob = bytearray(sealed(keyring))
    blob[body_offset(bytes(blob)) - 1] ^= 0x01
    with pytest.raises(Tampered, match="does not unwrap"):
        opened(bytes(blob), keyring)


def test_rewrap_changes_only_the_key_slot(keyring: Keyring) -> None:
    blob = sealed(keyring)
    rotated = keyring.with_new_key(NOW)
    out = io.BytesIO()
    assert container.rewrap(io.BytesIO(blob), out, rotated) == rotated.current
    new_blob = out.getvalue()
    assert new_blob[body_offset(new_blob) :] == blob[body_offset(blob) :]
    assert container.key_id_of(io.BytesIO(new_blob)) == rotated.current
    assert opened(new_blob, rotated) == AUDIO
    assert opened(blob, rotated) == AUDIO  # files not yet rewrapped still open
    with pytest.raises(UnknownKey):
        opened(new_blob, keyring)


def test_keyring_file_round_trip_and_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    created = create_keyring(path, NOW)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_keyring(path) == created
    with pytest.raises(KeyringError, match="already exists"):
        create_keyring(path, NOW)
    save_keyring(path, created.with_new_key(NOW))
    assert set(load_keyring(path).keys) > set(created.keys)
    os.chmod(path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        load_keyring(path)


def test_missing_keyring_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="dialguard keys init"):
        load_keyring(tmp_path / "nope.json")


def test_vault_paths_stay_in_their_region(tmp_path: Path, keyring: Keyring) -> None:
    vault = Vault({"cn": tmp_path / "cn", "eu": tmp_path / "eu"}, keyring)
    assert vault.path("cn", "acme/a.dgr") == (tmp_path / "cn" / "acme" / "a.dgr").resolve()
    for bad in ("../eu/a.dgr", "/etc/passwd", "acme/../../eu/x", ""):
        with pytest.raises(RegionViolation):
            vault.path("cn", bad)
    with pytest.raises(RegionViolation, match="unknown region"):
        vault.path("us", "a.dgr")
    assert vault.region_of(tmp_path / "eu" / "out" / "x.wav") == "eu"
    assert vault.region_of(tmp_path / "elsewhere.wav") is None


def test_vault_seal_is_atomic_and_clears_stale_temps(tmp_path: Path, keyring: Keyring) -> None:
    vault = Vault({"cn": tmp_path / "cn"}, keyring, chunk_size=CHUNK)
    target = vault.path("cn", "acme/r.dgr")
    target.parent.mkdir(parents=True)
    stale = target.with_name(".r.dgr.abc.tmp")
    stale.write_bytes(b"half")
    result = vault.seal("cn", "acme/r.dgr", io.BytesIO(AUDIO))
    assert not stale.exists()
    assert result.size == len(AUDIO) and result.key_id == keyring.current
    assert b"".join(vault.plaintext("cn", "acme/r.dgr")) == AUDIO
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.dgr"]

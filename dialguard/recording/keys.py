"""Master keys for the recording vault, kept in a keyring file.

Each recording is encrypted under its own random data key; only that key is wrapped (RFC 3394
AES key wrap) by a master key. The keyring holds every master key still needed, by id, and names
the current one: rotation adds a key and rewraps the data keys (:mod:`.rotation`), so old keys
stay in the file until no recording uses them.

File format (JSON, written durably, mode 0600)::

    {"version": 1, "current": "k20240601-3fa2c1",
     "keys": {"k20240601-3fa2c1": "<base64 of 32 bytes>", ...}}
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from ..files.durable import atomic_write

KEY_BYTES = 32
FORMAT_VERSION = 1


class KeyringError(ValueError):
    """The keyring file is missing, malformed or too widely readable; names the file."""


class UnknownKey(LookupError):
    """A recording names a master key the keyring does not hold."""


class BadWrappedKey(ValueError):
    """The wrapped data key fails the key-wrap integrity check (tampered or wrong key)."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyringError(f"current key {self.current!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES or not 0 < len(key_id.encode()) <= 64:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes with a short id")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def generate(cls, now: datetime) -> Keyring:
        key_id = new_key_id(now)
        return cls(key_id, {key_id: secrets.token_bytes(KEY_BYTES)})

    def with_new_key(self, now: datetime) -> Keyring:
        key_id = new_key_id(now)
        while key_id in self.keys:
            key_id = new_key_id(now)
        return Keyring(key_id, {**self.keys, key_id: secrets.token_bytes(KEY_BYTES)})

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap ``data_key`` under the current master key; returns (key id, wrapped key)."""
        return self.current, aes_key_wrap(self.keys[self.current], data_key)

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        try:
            master = self.keys[key_id]
        except KeyError:
            raise UnknownKey(f"master key {key_id!r} is not in the keyring") from None
        try:
            return aes_key_unwrap(master, wrapped)
        except (InvalidUnwrap, ValueError):
            raise BadWrappedKey(f"wrapped data key does not unwrap under {key_id!r}") from None


def new_key_id(now: datetime) -> str:
    return f"k{now:%Y%m%d}-{secrets.token_hex(3)}"


def load_keyring(path: Path) -> Keyring:
    try:
        info = path.stat()
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyringError(
            f"{path}: {exc.strerror} (create it with `dialguard keys init`)"
        ) from None
    if info.st_mode & (stat.S_IROTH | stat.S_IWOTH):
        raise KeyringError(f"{path}: readable or writable by others; chmod 600 it")
    try:
        data = json.loads(raw)
        if data.get("version") != FORMAT_VERSION:
            raise KeyringError(f"{path}: unsupported keyring version {data.get('version')!r}")
        keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
        return Keyring(data["current"], keys)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        if isinstance(exc, KeyringError):
            raise
        raise KeyringError(f"{path}: malformed keyring ({type(exc).__name__}: {exc})") from None


def save_keyring(path: Path, keyring: Keyring) -> None:
    data = {
        "version": FORMAT_VERSION,
        "current": keyring.current,
        "keys": {k: base64.b64encode(v).decode() for k, v in keyring.keys.items()},
    }
    payload = json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"
    atomic_write(path, lambda handle: handle.write(payload), mode=0o600)


def create_keyring(path: Path, now: datetime) -> Keyring:
    """The first master key (``dialguard keys init``); refuses to replace an existing keyring,
    which would make every recording under it unreadable."""
    if path.exists():
        raise KeyringError(
            f"{path} already exists: not replaced (recordings under its keys would be lost)"
        )
    keyring = Keyring.generate(now)
    save_keyring(path, keyring)
    return keyring

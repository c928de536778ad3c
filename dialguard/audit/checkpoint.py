"""Signed checkpoints of the audit log, kept outside the database.

A checkpoint commits to the first ``tree_size`` entries through their RFC 9162 Merkle root,
signed with Ed25519. Someone who can rewrite the database (and so re-hash the whole chain) still
cannot produce a log that matches a checkpoint already shipped elsewhere, nor sign a new one.

The checkpoint file is JSON lines, opened for append only and fsync'd per line; the signed text
is a fixed, line-based rendering (in the spirit of RFC 9162's signed tree heads and the C2SP
signed-note format) so that no JSON canonicalisation is part of what is signed::

    dialguard-audit-checkpoint/v1
    <tree_size>
    <root hash, hex>
    <timestamp, ISO 8601 UTC>
    <key id>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..filemodes import PRIVATE, open_file
from ..keyfiles import KeyFileError, create_key_file, read_key_file
from ..recording.fsutil import fsync_dir

HEADER = "dialguard-audit-checkpoint/v1"
CREATE_HINT = "dialguard audit init-key"


class CheckpointFileError(ValueError):
    """A checkpoint file line that is not a checkpoint; names the file and line."""


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str
    timestamp: datetime
    key_id: str
    signature: str
    """Base64 Ed25519 signature over :meth:`signed_text`."""

    def signed_text(self) -> bytes:
        return signed_text(self.tree_size, self.root_hash, self.timestamp, self.key_id)

    def verify(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(base64.b64decode(self.signature, validate=True), self.signed_text())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "tree_size": self.tree_size,
                "root_hash": self.root_hash,
                "timestamp": _iso(self.timestamp),
                "key_id": self.key_id,
                "signature": self.signature,
            },
            separators=(",", ":"),
        )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def signed_text(tree_size: int, root_hash: str, timestamp: datetime, key_id: str) -> bytes:
    return f"{HEADER}\n{tree_size}\n{root_hash}\n{_iso(timestamp)}\n{key_id}\n".encode()


class SigningKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    def sign(self, tree_size: int, root: bytes, timestamp: datetime) -> Checkpoint:
        text = signed_text(tree_size, root.hex(), timestamp, self.key_id)
        signature = base64.b64encode(self._private.sign(text)).decode()
        return Checkpoint(tree_size, root.hex(), timestamp, self.key_id, signature)

    @classmethod
    def create(cls, path: Path) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_key_file(path, pem)
        return cls(private)

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(read_key_file(path, CREATE_HINT), None)
        except ValueError as exc:
            if isinstance(exc, KeyFileError):
                raise
            raise KeyFileError(f"{path}: not a PEM private key") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"{path}: not an Ed25519 key")
        return cls(private)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A PEM public key (what an auditor is given), or the public half of a signing key file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        return SigningKey.load(path).public
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyFileError(f"{path}: not a PEM public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return public


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and fsync it (and the directory, when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    fd = open_file(path, os.O_WRONLY | os.O_APPEND, PRIVATE)
    try:
        os.write(fd, checkpoint.to_json().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        fsync_dir(path.parent)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file, in order; a torn last line (a crash mid-append) is an error
    like any other, so the operator sees it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CheckpointFileError(f"{path}: {exc.strerror}") from None
    found: list[Checkpoint] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            checkpoint = Checkpoint(
                tree_size=int(data["tree_size"]),
                root_hash=str(data["root_hash"]),
                timestamp=datetime.fromisoformat(data["timestamp"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointFileError(f"{path}:{number}: not a checkpoint ({exc})") from None
        if checkpoint.timestamp.tzinfo is None or checkpoint.tree_size < 0:
            raise CheckpointFileError(f"{path}:{number}: not a checkpoint")
        found.append(checkpoint)
    return found

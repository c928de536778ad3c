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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..files.durable import fsync_dir
from ..files.keys import KeyFileError, create_key_file, read_key_file
from ..files.modes import PRIVATE, open_file
from .merkle import MerkleAccumulator

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
    peaks: tuple[tuple[int, str], ...] = ()
    """The Merkle tree's state at ``tree_size`` (:attr:`.merkle.MerkleAccumulator.peaks`, hex),
    unsigned: whoever resumes from it checks that it folds to ``root_hash``. Kept only in the
    resume file (:func:`read_resume_state`), not in every line."""
    last_hash: str | None = None
    """The chain hash of entry ``tree_size``, which entry ``tree_size + 1`` must link to."""

    def signed_text(self) -> bytes:
        return signed_text(self.tree_size, self.root_hash, self.timestamp, self.key_id)

    def verify(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(base64.b64decode(self.signature, validate=True), self.signed_text())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def to_json(self, *, with_state: bool = False) -> str:
        line: dict[str, object] = {
            "v": 1,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": _iso(self.timestamp),
            "key_id": self.key_id,
            "signature": self.signature,
        }
        if with_state and self.last_hash is not None:
            line["peaks"] = [[height, digest] for height, digest in self.peaks]
            line["last_hash"] = self.last_hash
        return json.dumps(line, separators=(",", ":"))

    def resume(self) -> tuple[MerkleAccumulator, str] | None:
        """The tree and chain state at this checkpoint, when it carries them and they fold to
        its root; None otherwise (then read the log from its start)."""
        if self.last_hash is None:
            return None
        try:
            tree = MerkleAccumulator.resume(
                self.tree_size, [(height, bytes.fromhex(digest)) for height, digest in self.peaks]
            )
        except ValueError:
            return None
        if tree.root().hex() != self.root_hash:
            return None
        return tree, self.last_hash


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

    def sign_bytes(self, message: bytes) -> bytes:
        """A raw Ed25519 signature (detached report signatures, :mod:`dialguard.reports`)."""
        return self._private.sign(message)

    def sign_tree(self, tree: MerkleAccumulator, timestamp: datetime, last_hash: str) -> Checkpoint:
        """Sign ``tree``'s root; the checkpoint also carries the tree's peaks and ``last_hash``
        (the chain hash of its last entry), the state a writer resumes from."""
        signed = self.sign(tree.size, tree.root(), timestamp)
        peaks = tuple((height, digest.hex()) for height, digest in tree.peaks)
        return replace(signed, peaks=peaks, last_hash=last_hash)

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


def resume_path(path: Path) -> Path:
    """Where the last checkpoint's tree state is kept, next to the checkpoint file."""
    return path.with_name(path.name + ".tree")


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and fsync it (and the directory, when the file is new); then, if the
    checkpoint carries its tree state, replace the resume file with it. Lines stay small (a
    checkpoint every few seconds adds up); a crash between the two leaves an older resume file,
    from which a writer catches up."""
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
    if checkpoint.last_hash is not None:
        state = resume_path(path)
        temporary = state.with_name(state.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(checkpoint.to_json(with_state=True))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(state)


def read_resume_state(path: Path) -> Checkpoint | None:
    """The checkpoint in the resume file of checkpoint file ``path``, or None when there is
    none or it cannot be read (the caller then reads the log from its start)."""
    try:
        return _parse(resume_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_last_checkpoint(path: Path) -> Checkpoint | None:
    """The file's last checkpoint, read from its end (the file grows by a line a checkpoint)."""
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            size = min(end, 64 * 1024)
            handle.seek(end - size)
            tail = handle.read(size)
    except OSError as exc:
        raise CheckpointFileError(f"{path}: {exc.strerror}") from None
    lines = [line for line in tail.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return _parse(lines[-1])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointFileError(f"{path}: last line: not a checkpoint ({exc})") from None


def _parse(line: str) -> Checkpoint:
    data = json.loads(line)
    checkpoint = Checkpoint(
        tree_size=int(data["tree_size"]),
        root_hash=str(data["root_hash"]),
        timestamp=datetime.fromisoformat(data["timestamp"]),
        key_id=str(data["key_id"]),
        signature=str(data["signature"]),
        peaks=tuple((int(h), str(d)) for h, d in data.get("peaks", ())),
        last_hash=None if data.get("last_hash") is None else str(data["last_hash"]),
    )
    if checkpoint.timestamp.tzinfo is None or checkpoint.tree_size < 0:
        raise ValueError("no time zone, or a negative size")
    return checkpoint


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
            found.append(_parse(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointFileError(f"{path}:{number}: not a checkpoint ({exc})") from None
    return found


def last_checkpoint_at(path: Path) -> datetime | None:
    """When the last checkpoint in ``path`` was signed; None when there is none or it cannot be
    read (metrics: an absent age is alerted on like a stale one)."""
    try:
        last = read_last_checkpoint(path) if path.exists() else None
    except CheckpointFileError:
        return None
    return None if last is None else last.timestamp

"""Where the last verification got to, so the next one need only read what came after.

Kept next to the checkpoint file it was verified against (``<checkpoint file>.verified``), as
JSON: the size of the last checkpoint that verified, its root, the Merkle tree's peaks and the
chain hash of its last entry there, and per evidentiary table the highest row ``id`` checked. A
state is used only if it matches a checkpoint that verifies with the auditor's key (its peaks
fold to that checkpoint's signed root) and the log still holds its last entry unchanged, so a
doctored state file can make verification read *more*, never vouch for anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkpoint import Checkpoint, key_id_of
from .merkle import MerkleAccumulator


@dataclass(frozen=True)
class VerifiedState:
    tree_size: int
    root_hash: str
    peaks: tuple[tuple[int, str], ...]
    last_hash: str
    verified_at: datetime
    row_marks: dict[str, int] = field(default_factory=dict)
    """Per table, the highest ``id`` whose row was checked."""

    def tree(self) -> MerkleAccumulator:
        return MerkleAccumulator.resume(
            self.tree_size, [(height, bytes.fromhex(digest)) for height, digest in self.peaks]
        )

    def matches(self, checkpoints: Sequence[Checkpoint], public: Ed25519PublicKey) -> bool:
        """It ends on a checkpoint signed by ``public`` and its peaks make that root."""
        try:
            root = self.tree().root().hex()
        except ValueError:
            return False
        trusted = key_id_of(public)
        return root == self.root_hash and any(
            c.tree_size == self.tree_size
            and c.root_hash == root
            and c.key_id == trusted
            and c.verify(public)
            for c in checkpoints
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "tree_size": self.tree_size,
                "root_hash": self.root_hash,
                "peaks": [list(peak) for peak in self.peaks],
                "last_hash": self.last_hash,
                "verified_at": self.verified_at.isoformat(),
                "row_marks": self.row_marks,
            }
        )


def state_path(checkpoint_file: Path) -> Path:
    return checkpoint_file.with_name(checkpoint_file.name + ".verified")


def load_state(path: Path) -> VerifiedState | None:
    """None when there is none or it cannot be read (then the whole log is verified)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = VerifiedState(
            tree_size=int(data["tree_size"]),
            root_hash=str(data["root_hash"]),
            peaks=tuple((int(h), str(d)) for h, d in data["peaks"]),
            last_hash=str(data["last_hash"]),
            verified_at=datetime.fromisoformat(data["verified_at"]),
            row_marks={str(t): int(m) for t, m in data["row_marks"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return state


def save_state(path: Path, state: VerifiedState) -> None:
    """Write atomically (a crash leaves the old state or the new one)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(state.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)

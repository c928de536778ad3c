"""Keyed pseudonyms of phone numbers: HMAC-SHA256 under a secret key kept outside the database.

A plain hash of a phone number is no protection (there are only ~10^10 mobile numbers to try),
a keyed one is, as long as the key is not in the same dump. The same pseudonym names a person in
the DNC entries kept after erasure, in audit subjects and in data-subject requests, so they can be
matched up by whoever holds the key, and by nobody else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from ..files.keys import KeyFileError, create_key_file, read_key_file
from .records import require_e164

KEY_BYTES = 32
CREATE_HINT = "dialguard init"
SUBJECT_PREFIX = "n:"


class SubjectKey:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"subject hash key must be {KEY_BYTES} bytes")
        self._key = key

    def digest(self, number: str) -> str:
        """The pseudonym of an E.164 number: 64 hex digits."""
        return hmac.new(self._key, require_e164(number).encode(), hashlib.sha256).hexdigest()

    def subject(self, number: str) -> str:
        """How audit entries name a number: ``n:<pseudonym>``, never the number itself."""
        return SUBJECT_PREFIX + self.digest(number)

    @classmethod
    def load(cls, path: Path) -> SubjectKey:
        text = read_key_file(path, CREATE_HINT).decode("ascii", "replace").strip()
        try:
            return cls(bytes.fromhex(text))
        except ValueError:
            raise KeyFileError(f"{path}: expected {KEY_BYTES} bytes as hex") from None

    @classmethod
    def create(cls, path: Path) -> SubjectKey:
        key = secrets.token_bytes(KEY_BYTES)
        create_key_file(path, key.hex().encode() + b"\n")
        return cls(key)


def load_subject_key(path: Path) -> SubjectKey | None:
    """The key in ``path``; None when there is no such file (a store opened without it refuses
    to serve if the DNC holds erased people's opt-outs)."""
    return SubjectKey.load(path) if path.exists() else None

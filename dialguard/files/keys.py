"""Secret key files (the audit signing key, the subject-hash key): created once, mode 0600.

Creating refuses to replace an existing file: a new signing key orphans every checkpoint, a new
subject key silently un-blocks every erased opt-out. Loading refuses files others can read.
"""

from __future__ import annotations

import stat
from pathlib import Path

from .durable import atomic_write


class KeyFileError(ValueError):
    """A key file is missing, unreadable, malformed or too widely readable; names the file."""


def create_key_file(path: Path, payload: bytes) -> None:
    if path.exists():
        raise KeyFileError(f"{path} already exists; refusing to replace a key")
    atomic_write(path, lambda handle: handle.write(payload), mode=0o600)


def read_key_file(path: Path, create_hint: str) -> bytes:
    try:
        info = path.stat()
        payload = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror} (create it with `{create_hint}`)") from None
    if info.st_mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        raise KeyFileError(f"{path}: readable or writable by group or others; chmod 600 it")
    return payload

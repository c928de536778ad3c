"""Modes of the files that hold personal data or secrets: the database and its ``-wal``/``-shm``,
vault files, exports, audit checkpoints, key files (0600), and the national DNC index files
(0640: a gate running as another member of the group reads them).

The mode is set with ``fchmod`` on the new descriptor, so it is exact whatever the process's
umask (a umask only ever narrows what ``open`` asks for, and ``0`` would leave the library
default, 0644 for SQLite). An existing file keeps its mode — replacing it is not ours to decide —
and ``dialguard serve`` names every one that is wider (:func:`wider_than`).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE = 0o600
GROUP_READABLE = 0o640


def create_file(path: Path, flags: int, mode: int) -> int:
    """Create ``path`` (it must not exist) with exactly ``mode``; the open descriptor."""
    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file(path: Path, flags: int, mode: int) -> int:
    """Open ``path``, creating it with exactly ``mode`` when it does not exist yet."""
    while True:
        try:
            return create_file(path, flags, mode)
        except FileExistsError:
            pass
        try:
            return os.open(path, flags & ~os.O_CREAT)
        except FileNotFoundError:  # removed between the two opens: create it after all
            continue


def ensure_file(path: Path, mode: int = PRIVATE) -> None:
    """Create ``path`` empty with ``mode`` unless it exists (SQLite then opens it as it is)."""
    with contextlib.suppress(FileExistsError):
        os.close(create_file(path, os.O_WRONLY, mode))


def wider_than(path: Path, allowed: int) -> int | None:
    """The permission bits of ``path`` when it grants more than ``allowed``; None when it does
    not, or does not exist."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & ~allowed else None

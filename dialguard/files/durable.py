"""Durable file replacement: temp file → fsync → rename → fsync the directory.

A crash at any point leaves either the old file or the complete new one under the final name, and
at worst a stray ``.<name>.<random>.tmp`` next to it, which :func:`remove_temps` clears.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from .modes import PRIVATE, create_file

T = TypeVar("T")


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_pattern(path: Path) -> str:
    return f".{path.name}.*.tmp"


def remove_temps(path: Path) -> None:
    """Remove temp files a crashed :func:`atomic_write` of ``path`` left behind."""
    if path.parent.is_dir():
        for stray in path.parent.glob(temp_pattern(path)):
            stray.unlink(missing_ok=True)


def atomic_write(
    path: Path,
    write: Callable[[BinaryIO], T],
    *,
    mode: int = PRIVATE,
    before_rename: Callable[[], None] | None = None,
    replace: bool = True,
) -> T:
    """Write ``path`` through ``write(handle)`` so that it appears complete or not at all, with
    exactly ``mode`` whatever the umask.

    ``before_rename`` runs once the temp file is on disk (the crash tests stop there). With
    ``replace=False`` an existing ``path`` (even a dangling symlink) is left as it is and
    ``FileExistsError`` raised: the file is linked into place, which never replaces a name.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = create_file(temp, os.O_WRONLY, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename()
        if replace:
            os.replace(temp, path)
        else:
            os.link(temp, path)
            temp.unlink()
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return result


def remove_durably(path: Path) -> bool:
    """Unlink ``path`` and fsync its directory; False if it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True

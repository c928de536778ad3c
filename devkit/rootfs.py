"""The cached Debian sid root filesystem that holds Asterisk 22.

Built once with ``debootstrap`` outside the checkout (``$DIALGUARD_ASTERISK_ROOTFS``, default
``/var/cache/dialguard/asterisk-rootfs``) and never written to afterwards: every Asterisk run
mounts its own configuration, spool, log and run directories over it (see ``asterisk.py``).
A build goes into a temporary directory next to the target and is renamed into place when
complete, under a lock, so an interrupted or concurrent build never leaves a half-made rootfs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_ROOTFS = Path("/var/cache/dialguard/asterisk-rootfs")
SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-core-sounds-en")
BUILD_TIMEOUT_S = 1800
_BUILD_PREFIX = ".build-"


class RootfsError(RuntimeError):
    """The rootfs is missing and cannot be built; the message says why and what to install."""


def rootfs_path() -> Path:
    return Path(os.environ.get("DIALGUARD_ASTERISK_ROOTFS", str(DEFAULT_ROOTFS)))


def is_complete(root: Path) -> bool:
    return (root / "usr/sbin/asterisk").is_file()


def ensure_rootfs(root: Path | None = None) -> Path:
    """Return the rootfs, building it first if needed (about a minute with a good mirror)."""
    root = root or rootfs_path()
    if is_complete(root):
        return root
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise RootfsError(
            f"no Asterisk rootfs at {root} and debootstrap is not installed: "
            "apt-get install debootstrap (or point DIALGUARD_ASTERISK_ROOTFS at a built one)"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    with _lock(root.parent / f".{root.name}.lock"):
        if is_complete(root):  # another run built it while we waited for the lock
            return root
        _remove_stale_builds(root)
        build = Path(tempfile.mkdtemp(prefix=f".{root.name}{_BUILD_PREFIX}", dir=root.parent))
        try:
            _debootstrap(debootstrap, build)
            build.chmod(0o755)  # mkdtemp made it 0700: the container's "/" for uid asterisk
            build.rename(root)
        except BaseException:
            _remove_tree(build)
            raise
    return root


def _debootstrap(debootstrap: str, target: Path) -> None:
    argv = [
        debootstrap,
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
    ]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise RootfsError(f"{' '.join(argv)} took longer than {BUILD_TIMEOUT_S}s") from None
    if proc.returncode != 0 or not is_complete(target):
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise RootfsError(f"{' '.join(argv)} failed (exit {proc.returncode}):\n{tail}")


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale_builds(root: Path) -> None:
    """Builds left by a killed run; safe to delete because we hold the build lock."""
    for stale in root.parent.glob(f".{root.name}{_BUILD_PREFIX}*"):
        _remove_tree(stale)


def _remove_tree(path: Path) -> None:
    """Delete a (partial) rootfs; debootstrap may have left /proc or /sys mounted inside it,
    and deleting through a mount would reach the host's files."""
    prefix = str(path.resolve()) + "/"
    mounts = [m for m in _mount_points() if m.startswith(prefix)]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", mount], check=False, capture_output=True)
    if any(m.startswith(prefix) for m in _mount_points()):
        raise RootfsError(f"cannot unmount everything under {path}; remove it by hand")
    shutil.rmtree(path, ignore_errors=True)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        return [line.split()[4].replace("\\040", " ") for line in handle]

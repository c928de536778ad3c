"""Asterisk 22 in a throwaway container: its own mount, pid, uts and ipc namespaces over the
cached rootfs (``rootfs.py``), which is mounted read-only. Each run gets its own directory,
bind-mounted inside, so runs never share state and can go in parallel:

    <workdir>/etc   -> /etc/asterisk              generated configuration
    <workdir>/spool -> /var/spool/asterisk        MixMonitor writes to spool/monitor
    <workdir>/log   -> /var/log/asterisk          messages.log
    <workdir>/run   -> /run                       control socket and astdb

The network namespace is shared: PJSIP and AMI listen on free ports of 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from .asterisk_config import AsteriskConfig
from .net import LOOPBACK, free_port
from .rootfs import ensure_rootfs

BOOT_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

# Runs in the new namespaces as their pid 1 and becomes Asterisk. "$1" is the rootfs,
# "$2" the per-run directory. Mounts made here vanish with the namespace.
_CONTAINER_INIT = r"""
set -eu
root=$1 run=$2
mount --rbind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --bind "$run/etc" "$root/etc/asterisk"
mount --bind "$run/spool" "$root/var/spool/asterisk"
mount --bind "$run/log" "$root/var/log/asterisk"
mount --bind "$run/run" "$root/run"
exec chroot "$root" /usr/sbin/asterisk -f -U asterisk -G asterisk
"""


class AsteriskError(RuntimeError):
    """Asterisk did not start or a CLI command failed; the message carries its log tail."""


class AsteriskContainer:
    """``start()`` boots Asterisk and returns once it is fully booted; ``stop()`` kills the
    namespace. Usable as a context manager."""

    def __init__(
        self,
        *,
        agi_address: str | None = None,
        agi_timeout_s: int | None = None,
        accountcode: str | None = None,
        workdir: Path | None = None,
        rootfs: Path | None = None,
    ) -> None:
        self._rootfs = rootfs
        self._workdir_given = workdir
        self.config = AsteriskConfig(
            sip_port=free_port(socket.SOCK_DGRAM),
            ami_port=free_port(),
            ami_username="dialguard",
            ami_secret=secrets.token_urlsafe(24),
            agi_address=agi_address,
            agi_timeout_s=agi_timeout_s,
            accountcode=accountcode,
        )
        self.host = LOOPBACK
        self.workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def sip_port(self) -> int:
        return self.config.sip_port

    @property
    def monitor_dir(self) -> Path:
        return self._dir("spool") / "monitor"

    @property
    def log_file(self) -> Path:
        return self._dir("log") / "messages.log"

    def start(self) -> AsteriskContainer:
        root = ensure_rootfs(self._rootfs)
        self._rootfs = root
        workdir = self._workdir_given or Path(tempfile.mkdtemp(prefix="dialguard-asterisk-"))
        self.workdir = workdir
        self._prepare_workdir(root, workdir)
        unshare = shutil.which("unshare")
        if unshare is None:
            raise AsteriskError("unshare (util-linux) is not installed")
        with (workdir / "container.out").open("wb") as out:
            self._proc = subprocess.Popen(
                [
                    unshare, "--mount", "--pid", "--fork", "--uts", "--ipc",
                    "--propagation", "private", "--kill-child",
                    "sh", "-c", _CONTAINER_INIT, "container-init", str(root), str(workdir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            self._wait_booted()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill the namespace's init (Asterisk); the kernel then kills everything else in it
        and ``unshare`` returns once the namespace is empty."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        init = self._init_pid(proc)
        if init is not None:
            _kill(init)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
        if self._workdir_given is None and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> AsteriskContainer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def cli(self, command: str, timeout: float = 15.0) -> str:
        """Run one CLI command (``asterisk -rx``) against this run's control socket."""
        proc = self._running()
        init = self._init_pid(proc)
        if init is None:
            raise AsteriskError(f"Asterisk is not running\n{self.log_tail()}")
        argv = [
            "nsenter", f"--target={init}", "--mount", "--pid", "--uts", "--ipc",
            "--root", "--wd", "--", "/usr/sbin/asterisk", "-rx", command,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise AsteriskError(f"CLI {command!r} took longer than {timeout}s") from None
        if done.returncode != 0:
            raise AsteriskError(
                f"CLI {command!r} failed (exit {done.returncode}): {done.stderr.strip()}\n"
                f"{self.log_tail()}"
            )
        return done.stdout

    def set_global(self, name: str, value: str) -> None:
        self.cli(f"dialplan set global {name} {value}")

    def log_tail(self, lines: int = 40) -> str:
        texts = []
        for path in (self._dir("log") / "messages.log", self._dir("") / "container.out"):
            if path.exists():
                tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                texts.append(f"--- {path}\n" + "\n".join(tail))
        return "\n".join(texts)

    def _prepare_workdir(self, root: Path, workdir: Path) -> None:
        for sub in ("etc", "spool/monitor", "spool/tmp", "spool/outgoing", "log", "run/asterisk"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        for name, text in self.config.files().items():
            (workdir / "etc" / name).write_text(text, encoding="utf-8")
        (workdir / "etc/manager.conf").chmod(0o600)
        uid, gid = _asterisk_ids(root)
        for sub in ("etc", "spool", "log", "run"):
            for path in [workdir / sub, *(workdir / sub).rglob("*")]:
                os.chown(path, uid, gid)

    def _wait_booted(self) -> None:
        """Wait for the control socket (polling: it is the first sign of life), then let
        Asterisk itself block until it has loaded everything."""
        proc = self._running()
        socket_path = self._dir("run") / "asterisk/asterisk.ctl"
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while not socket_path.exists():
            if proc.poll() is not None:
                raise AsteriskError(f"Asterisk exited with {proc.returncode}\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise AsteriskError(f"no control socket after {BOOT_TIMEOUT_S}s\n{self.log_tail()}")
            time.sleep(0.05)
        self.cli("core waitfullybooted", timeout=max(deadline - time.monotonic(), 1.0))

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise AsteriskError("Asterisk is not started")
        return self._proc

    def _dir(self, sub: str) -> Path:
        if self.workdir is None:
            raise AsteriskError("Asterisk is not started")
        return self.workdir / sub

    @staticmethod
    def _init_pid(proc: subprocess.Popen[bytes]) -> int | None:
        """The pid (as seen from here) of the namespace's pid 1: unshare's only child."""
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
        except OSError:
            return None
        pids = children.split()
        return int(pids[0]) if pids else None


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _asterisk_ids(root: Path) -> tuple[int, int]:
    """uid and gid of the rootfs's ``asterisk`` user (they need not exist on the host)."""
    for line in (root / "etc/passwd").read_text(encoding="utf-8").splitlines():
        fields = line.split(":")
        if fields[0] == "asterisk":
            return int(fields[2]), int(fields[3])
    raise AsteriskError(f"no asterisk user in {root}/etc/passwd")

"""A real FreeSWITCH 1.11.1 (``/opt/freeswitch``, installed by ``./dev`` from
``../shared/freeswitch``) in a throwaway directory, on free loopback ports.

``start()`` writes the config (:mod:`devkit.freeswitch_config`, which includes the shipped
``dialplan/freeswitch/dialguard.xml`` unchanged), runs ``freeswitch -nf -nc`` with its own
conf/log/db/run/temp/recordings folders and returns once the inbound Event Socket answers and
both sofia profiles are RUNNING. :meth:`FreeSwitch.api` runs one API command over that socket
(what ``fs_cli -x`` does). ``stop()`` kills it: its SIGTERM shutdown costs a fixed ~4.7 s and
the directory is thrown away, so there is nothing to shut down cleanly.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

from .freeswitch_config import ESL_PASSWORD, FreeSwitchConfig
from .net import LOOPBACK, free_port

PREFIX = Path("/opt/freeswitch")
BINARY = PREFIX / "bin/freeswitch"
BOOT_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
RTP_PORTS = 400
"""RTP ports per instance (two per call leg); FreeSWITCH wants an even end port."""


class FreeSwitchError(RuntimeError):
    """FreeSWITCH is missing, did not start, or an API command failed; carries its log tail."""


def require_installed() -> Path:
    if not BINARY.exists():
        raise FreeSwitchError(
            f"{BINARY} is missing: ./dev installs it from ../shared/freeswitch "
            "(or see ../shared/freeswitch/README.md)"
        )
    return BINARY


class FreeSwitch:
    def __init__(
        self,
        *,
        tenant: str,
        workdir: Path | None = None,
        no_gate_prefix: str = "",
        no_gate_notice: str = FreeSwitchConfig.no_gate_notice,
        bare_prefix: str = "",
        log_level: str = "info",
    ) -> None:
        start = random.randrange(16384, 32768 - RTP_PORTS, 2)
        self.config = FreeSwitchConfig(
            sip_port=free_port(socket.SOCK_DGRAM),
            carrier_port=free_port(socket.SOCK_DGRAM),
            esl_port=free_port(),
            rtp_start=start,
            rtp_end=start + RTP_PORTS,
            tenant=tenant,
            no_gate_prefix=no_gate_prefix,
            no_gate_notice=no_gate_notice,
            bare_prefix=bare_prefix,
            log_level=log_level,
        )
        self._workdir_given = workdir
        self.workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def sip_port(self) -> int:
        return self.config.sip_port

    @property
    def recordings_dir(self) -> Path:
        """``$${recordings_dir}``: where ``record_session`` writes the gate's recordings."""
        return self._dir("recordings")

    def start(self) -> FreeSwitch:
        binary = require_installed()
        workdir = self._workdir_given or Path(tempfile.mkdtemp(prefix="dialguard-fs-"))
        self.workdir = workdir
        dirs = ("conf", "log", "db", "run", "temp", "recordings", "storage", "cache", "sounds")
        for sub in dirs:
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        (workdir / "conf/freeswitch.xml").write_text(self.config.xml(), encoding="utf-8")
        argv = [str(binary), "-nonat", "-nocal", "-nf", "-nc"]
        for sub in dirs:
            argv += [f"-{sub}", str(workdir / sub)]
        with (workdir / "freeswitch.out").open("wb") as out:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)
        if self._workdir_given is None and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> FreeSwitch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def api(self, command: str, timeout: float = 10.0) -> str:
        """``api <command>`` over the inbound Event Socket; its output."""
        try:
            with socket.create_connection((LOOPBACK, self.config.esl_port), timeout) as sock:
                conn = _Conn(sock)
                conn.read()  # auth/request
                conn.send(f"auth {ESL_PASSWORD}")
                headers, _ = conn.read()
                if not headers.get("Reply-Text", "").startswith("+OK"):
                    raise FreeSwitchError(f"ESL auth refused: {headers}")
                conn.send(f"api {command}")
                _, body = conn.read()
                conn.send("exit")
                return body
        except OSError as exc:
            raise FreeSwitchError(f"api {command!r}: {exc}\n{self.log_tail()}") from None

    def set_global(self, name: str, value: str) -> None:
        self.api(f"global_setvar {name}={value}")

    def calls(self) -> int:
        """Channels up right now (``show channels count``)."""
        out = self.api("show channels count")
        return int(out.split()[0]) if out.split() and out.split()[0].isdigit() else 0

    def log_tail(self, lines: int = 40) -> str:
        texts = []
        if self.workdir is not None:
            for path in (self.workdir / "log/freeswitch.log", self.workdir / "freeswitch.out"):
                if path.exists():
                    tail = path.read_text(encoding="utf-8", errors="replace").splitlines()
                    texts.append(f"--- {path}\n" + "\n".join(tail[-lines:]))
        return "\n".join(texts)

    def _wait_ready(self) -> None:
        proc = self._running()
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise FreeSwitchError(f"exited with {proc.returncode}\n{self.log_tail()}")
            with contextlib.suppress(FreeSwitchError, ValueError):
                status = self.api("sofia status", timeout=2.0)
                if status.count("RUNNING") >= 2:
                    return
            if time.monotonic() >= deadline:
                raise FreeSwitchError(f"not ready after {BOOT_TIMEOUT_S}s\n{self.log_tail()}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        """The ``freeswitch`` process's pid."""
        return self._running().pid

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise FreeSwitchError("FreeSWITCH is not started")
        return self._proc

    def _dir(self, sub: str) -> Path:
        if self.workdir is None:
            raise FreeSwitchError("FreeSWITCH is not started")
        return self.workdir / sub


class _Conn:
    """Just enough of the inbound Event Socket for ``api`` commands."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""

    def send(self, text: str) -> None:
        self._sock.sendall(text.encode() + b"\n\n")

    def read(self) -> tuple[dict[str, str], str]:
        head = self._take_until(b"\n\n").decode()
        headers = {}
        for line in head.splitlines():
            key, _, value = line.partition(": ")
            headers[key] = unquote(value).strip()
        length = int(headers.get("Content-Length", "0"))
        while len(self._buf) < length:
            self._recv()
        body, self._buf = self._buf[:length], self._buf[length:]
        return headers, body.decode(errors="replace")

    def _take_until(self, sep: bytes) -> bytes:
        while sep not in self._buf:
            self._recv()
        head, self._buf = self._buf.split(sep, 1)
        return head

    def _recv(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("FreeSWITCH closed the Event Socket")
        self._buf += chunk


def main(argv: list[str]) -> int:
    """``python -m devkit.freeswitch warm``: start and stop once, so the first start after an
    install (which writes /opt/freeswitch/certs, 4-8 s) is not a test's."""
    if argv != ["warm"]:
        print("usage: python -m devkit.freeswitch warm", file=sys.stderr)
        return 2
    try:
        with FreeSwitch(tenant="warm-up"):
            pass
    except FreeSwitchError as exc:
        print(f"error: FreeSWITCH does not start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run one SIPp scenario as a UAC against the devkit PBX and report what came back; or play the
callee with a SIPp UAS in the background (:class:`SippCallee`).

The final response of each call is read from SIPp's message trace rather than from the
scenario, so a test sees the real code (and how long it took) even when the scenario
expected another one.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from .net import LOOPBACK, free_port

G711A_PCAP = Path("/usr/share/sip-tester/g711a.pcap")
_SEPARATOR = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$", re.MULTILINE)
_STATUS = re.compile(r"^SIP/2\.0 (\d{3})")
_HEADER = re.compile(r"^(call-id|i|cseq):\s*(.+)$", re.IGNORECASE | re.MULTILINE)


class SippError(RuntimeError):
    """SIPp is missing or could not run the scenario at all."""


@dataclass(frozen=True)
class CallResult:
    call_id: str
    final_code: int | None
    """First final (>= 200) response to the INVITE; ``None`` if none arrived."""
    setup_s: float | None
    """Seconds from the first INVITE sent to that final response."""
    talk_s: float | None = None
    """Seconds from that final response (the answer) to the first BYE sent; ``None`` if the
    caller sent no BYE."""
    final_at: datetime | None = None
    """When that final response arrived, by SIPp's clock (local time, naive): a 200 is the
    instant the PBX answered the caller's channel."""


@dataclass(frozen=True)
class SippResult:
    exit_code: int
    """SIPp's own verdict: 0 when every call followed the scenario."""
    calls: tuple[CallResult, ...]
    elapsed_s: float
    errors: str
    """SIPp's error trace (unexpected messages, timeouts)."""

    @property
    def final_codes(self) -> tuple[int | None, ...]:
        return tuple(call.final_code for call in self.calls)


def run_scenario(
    scenario: Path,
    *,
    port: int,
    service: str,
    keys: Mapping[str, str] | None = None,
    calls: int = 1,
    at_once: int = 1,
    timeout_s: float = 30.0,
    host: str = LOOPBACK,
    workdir: Path | None = None,
) -> SippResult:
    """Place ``calls`` calls, ``at_once`` at a time (started as fast as SIPp can: a burst),
    from 127.0.0.1 to ``host:port``.

    ``service`` is the Request-URI user (the callee); ``keys`` fill ``[name]`` fields of the
    scenario (``caller`` for the From user, the caller ID). SIPp is killed if it outlives
    ``timeout_s`` (its own global timeout fires first).
    """
    sipp = shutil.which("sipp")
    if sipp is None:
        raise SippError("sipp is not installed: apt-get install sip-tester")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="dialguard-sipp-"))
    workdir.mkdir(parents=True, exist_ok=True)
    messages, errors, stats = workdir / "messages.log", workdir / "errors.log", workdir / "stat.csv"
    argv = [
        sipp, f"{host}:{port}",
        "-sf", str(scenario),
        "-s", service,
        "-i", LOOPBACK,
        "-p", str(free_port(socket.SOCK_DGRAM)),
        "-mp", str(free_port(socket.SOCK_DGRAM)),
        "-m", str(calls), "-l", str(at_once),
        *(("-r", "1000", "-rp", "1") if at_once > 1 else ()),
        "-timeout", f"{int(timeout_s)}s", "-timeout_error",
        "-nostdin",
        "-trace_msg", "-message_file", str(messages),
        "-trace_err", "-error_file", str(errors),
        "-trace_stat", "-stf", str(stats),
    ]  # fmt: skip
    for name, value in (keys or {}).items():
        argv += ["-key", name, value]
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s + 10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SippError(f"sipp outlived its timeout; argv: {argv}") from None
    elapsed = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SippError(
            f"sipp exited with {done.returncode}: {done.stderr.strip()[-2000:]}; argv: {argv}"
        )
    trace = messages.read_text(errors="replace") if messages.exists() else ""
    return SippResult(
        exit_code=done.returncode,
        calls=parse_invite_outcomes(trace),
        elapsed_s=elapsed,
        errors=errors.read_text(errors="replace") if errors.exists() else "",
    )


def parse_invite_outcomes(trace: str) -> tuple[CallResult, ...]:
    """Per Call-ID, in order of the first INVITE: the first final response, its delay and how
    long the call then lasted until the caller's BYE."""
    first_invite: dict[str, datetime] = {}
    final: dict[str, tuple[int, datetime]] = {}
    first_bye: dict[str, datetime] = {}
    parts = _SEPARATOR.split(trace)
    for stamp, body in zip(parts[1::2], parts[2::2], strict=True):
        when = datetime.fromisoformat(stamp)
        lines = body.strip().splitlines()
        start = next((line for line in lines[1:] if line.strip()), "")
        headers = {name.lower(): value.strip() for name, value in _HEADER.findall(body)}
        call_id = headers.get("call-id") or headers.get("i", "")
        if " sent " in lines[0] and start.startswith("INVITE "):
            first_invite.setdefault(call_id, when)
        if " sent " in lines[0] and start.startswith("BYE "):
            first_bye.setdefault(call_id, when)
        status = _STATUS.match(start)
        if status and headers.get("cseq", "").endswith("INVITE") and int(status[1]) >= 200:
            final.setdefault(call_id, (int(status[1]), when))
    results = []
    for call_id, sent in first_invite.items():
        if call_id in final:
            code, when = final[call_id]
            bye = first_bye.get(call_id)
            talk = None if bye is None else (bye - when).total_seconds()
            setup = (when - sent).total_seconds()
            results.append(CallResult(call_id, code, setup, talk, final_at=when))
        else:
            results.append(CallResult(call_id, None, None))
    return tuple(results)


class SippCallee:
    """A SIPp UAS that answers one call in the background, for a test that plays the callee
    (``with SippCallee(...) as callee:`` then ``callee.port`` is where to send the INVITE).
    ``keys`` fill the scenario's ``[name]`` fields. Leaving the block waits up to
    ``timeout_s`` for the scenario to end, then kills SIPp: it never outlives the test."""

    def __init__(
        self, scenario: Path, *, keys: Mapping[str, str], timeout_s: float, workdir: Path
    ) -> None:
        self.port = free_port(socket.SOCK_DGRAM)
        self.workdir = workdir
        self._timeout_s = timeout_s
        workdir.mkdir(parents=True, exist_ok=True)
        sipp = shutil.which("sipp")
        if sipp is None:
            raise SippError("sipp is not installed: apt-get install sip-tester")
        self._argv = [
            sipp, "-sf", str(scenario),
            "-i", LOOPBACK, "-p", str(self.port), "-mp", str(free_port(socket.SOCK_DGRAM)),
            "-m", "1", "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-nostdin",
            "-trace_msg", "-message_file", str(workdir / "messages.log"),
            "-trace_err", "-error_file", str(workdir / "errors.log"),
        ]  # fmt: skip
        for name, value in keys.items():
            self._argv += ["-key", name, value]
        self._proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None
        """SIPp's verdict once the block is left: 0 when the call followed the scenario."""

    def __enter__(self) -> SippCallee:
        self._proc = subprocess.Popen(
            self._argv,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            self.exit_code = proc.wait(timeout=self._timeout_s if exc is None else 0.1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def errors(self) -> str:
        path = self.workdir / "errors.log"
        return path.read_text(errors="replace") if path.exists() else ""

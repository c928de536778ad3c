"""The real gate as a process: the ``dialguard`` CLI to seed and read the store, and
``dialguard serve`` listening for FastAGI on a loopback port.

Every command gets a private environment: no ``DIALGUARD_*`` variable of the caller leaks in,
the config file is a per-run one, the HTTP API is off, and ``DIALGUARD_NOW`` freezes the
gate's clock when ``now`` is set. Recording is off unless a :class:`RecordingPeer` is given;
then the keyring (created by ``dialguard init``) and the vault live in the run directory.
The CLI commands run as processes unless a :class:`CommandRunner` says otherwise; ``serve`` is
always a process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from .net import LOOPBACK, wait_for_listener

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 60.0


class CommandRunner(Protocol):
    """Runs ``dialguard ARGS`` with ``env`` as its whole environment: exit status, stdout and
    stderr. The default is a process of its own; a test suite may run the command inside its
    own process instead (``tests/in_process.run_dialguard``) and spare the interpreter's start-up
    on every seeding command."""

    def __call__(
        self, args: Sequence[str], *, env: Mapping[str, str]
    ) -> subprocess.CompletedProcess[str]: ...


class GateError(RuntimeError):
    """A CLI command failed or ``serve`` did not come up / died; carries its output."""


@dataclass(frozen=True)
class RecordingPeer:
    """Where the PBX leaves finished recordings, and its AMI login."""

    spool_dir: Path
    ami_port: int
    ami_username: str
    ami_secret: str


@cache
def dialguard_executable() -> str:
    """The ``dialguard`` next to the running interpreter (the venv's), else on ``PATH``: looked
    up once per process, by every gate and every command it runs."""
    beside = Path(sys.executable).parent / "dialguard"
    if beside.exists():
        return str(beside)
    found = shutil.which("dialguard")
    if found is None:
        raise GateError("the dialguard command is not installed (pip install -e .)")
    return found


def run_in_a_process(
    args: Sequence[str], *, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """``dialguard ARGS`` as a process of its own."""
    argv = [dialguard_executable(), *args]
    try:
        return subprocess.run(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GateError(f"{' '.join(argv)} took longer than {CLI_TIMEOUT_S}s") from None


class Gate:
    def __init__(
        self,
        workdir: Path,
        port: int,
        now: str | None = None,
        recording: RecordingPeer | None = None,
        esl_port: int | None = None,
        national_dnc: Path | None = None,
        agi_workers: int = 1,
        esl_recordings_dir: Path | None = None,
        database_url: str | None = None,
        run_command: CommandRunner = run_in_a_process,
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.esl_port = esl_port
        """Where the FreeSWITCH outbound-socket gate listens; None: ESL off."""
        self.national_dnc = national_dnc
        self.esl_recordings_dir = esl_recordings_dir
        """Where FreeSWITCH's ``record_session`` writes (``esl.recordings_dir``); None: its
        ``$${recordings_dir}``."""
        self.agi_workers = agi_workers
        """Processes answering FastAGI (``agi.workers``)."""
        """A national registry index (``policy.national_dnc``); None: none."""
        self.recording = recording
        self.settings: dict[str, str] = {}
        """Further ``DIALGUARD_*`` settings for the CLI and the next ``start()``."""
        self.now = now
        """ISO 8601 with offset; applies to CLI commands and to the next ``start()``."""
        self.database = workdir / "dg.db"
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.database}"
        self._tenants: set[str] = set()
        """Tenants this harness has created (the CLI refuses names it does not know)."""
        """Default: the SQLite file ``database``; several gates may share one PostgreSQL."""
        self.serve_log = workdir / "serve.log"
        self._config = workdir / "dialguard.toml"
        self._exe = dialguard_executable()
        self._run_command = run_command
        """How CLI commands run (``serve`` is always a process of its own)."""
        self._proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self._config.write_text("# devkit: settings come from the environment\n")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIALGUARD_")}
        env |= {
            "DIALGUARD_CONFIG": str(self._config),
            "DIALGUARD_DATABASE_URL": self.database_url,
            "DIALGUARD_AGI_HOST": LOOPBACK,
            "DIALGUARD_AGI_PORT": str(self.port),
            "DIALGUARD_AGI_WORKERS": str(self.agi_workers),
            "DIALGUARD_API_ENABLED": "false",
            "DIALGUARD_ESL_ENABLED": "false",
            # Keys and checkpoints stay in the run directory, never in /etc or /var/lib.
            "DIALGUARD_DSR_HASH_KEY_FILE": str(self.workdir / "subject-hash.key"),
            "DIALGUARD_AUDIT_SIGNING_KEY_FILE": str(self.workdir / "audit-signing.key"),
            "DIALGUARD_AUDIT_CHECKPOINT_FILE": str(self.workdir / "audit-checkpoints.jsonl"),
        }
        env |= self._recording_env()
        if self.national_dnc is not None:
            env["DIALGUARD_POLICY_NATIONAL_DNC"] = str(self.national_dnc)
        if self.esl_port is not None:
            env |= {
                "DIALGUARD_ESL_ENABLED": "true",
                "DIALGUARD_ESL_HOST": LOOPBACK,
                "DIALGUARD_ESL_PORT": str(self.esl_port),
            }
            if self.esl_recordings_dir is not None:
                env["DIALGUARD_ESL_RECORDINGS_DIR"] = str(self.esl_recordings_dir)
        if self.now is not None:
            env["DIALGUARD_NOW"] = self.now
        return env | self.settings

    def _recording_env(self) -> dict[str, str]:
        peer = self.recording
        if peer is None:
            return {"DIALGUARD_RECORDING_ENABLED": "false"}
        return {
            "DIALGUARD_RECORDING_ENABLED": "true",
            "DIALGUARD_RECORDING_KEYRING_FILE": str(self.workdir / "recording-keys.json"),
            "DIALGUARD_RECORDING_REGIONS": f"cn={self.workdir / 'vault-cn'}",
            "DIALGUARD_RECORDING_SPOOL_DIR": str(peer.spool_dir),
            "DIALGUARD_RECORDING_AMI_HOST": LOOPBACK,
            "DIALGUARD_RECORDING_AMI_PORT": str(peer.ami_port),
            "DIALGUARD_RECORDING_AMI_USERNAME": peer.ami_username,
            "DIALGUARD_RECORDING_AMI_SECRET": peer.ami_secret,
        }

    def cli(self, *args: str) -> str:
        done = self._run_command(args, env=self.env())
        if done.returncode != 0:
            raise GateError(
                f"dialguard {' '.join(args)} exited with {done.returncode}\n"
                f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()}"
            )
        return done.stdout

    # Seeding, in the CLI's own words.
    def init(self) -> None:
        self.cli("init")

    def add_number(
        self,
        number: str,
        *,
        tenant: str,
        purpose: str,
        outbound: bool = True,
        number_type: str | None = None,
    ) -> None:
        self.ensure_tenant(tenant)
        args = ["numbers", "add", number, "--tenant", tenant, "--purpose", purpose]
        args.append("--outbound" if outbound else "--no-outbound")
        if number_type is not None:
            args += ["--type", number_type]
        self.cli(*args)

    def add_dnc(self, number: str, *, tenant: str | None, reason: str) -> None:
        tenant_args = ["--tenant", tenant] if tenant is not None else []
        if tenant is not None:
            self.ensure_tenant(tenant)
        self.cli("dnc", "add", number, *tenant_args, "--reason", reason)

    def add_consent(self, callee: str, *, tenant: str, purpose: str, evidence: str) -> None:
        self.ensure_tenant(tenant)
        self.cli(
            "consent", "add", callee, "--tenant", tenant, "--purpose", purpose,
            "--evidence", evidence,
        )  # fmt: skip

    def set_industry(self, tenant: str, industry: str) -> None:
        self.cli("tenants", "add", tenant, "--industry", industry)
        self._tenants.add(tenant)

    def ensure_tenant(self, tenant: str) -> None:
        """Create ``tenant`` (industry general) the first time this harness names it."""
        if tenant not in self._tenants:
            self.cli("tenants", "add", tenant)
            self._tenants.add(tenant)

    def decisions(self, callee: str | None = None) -> list[dict[str, Any]]:
        """Decision rows, newest first."""
        args = ["decisions", "list", "--json"]
        if callee is not None:
            args += ["--callee", callee]
        return self._json_list(*args)

    def recordings(self, callee: str | None = None) -> list[dict[str, Any]]:
        """Vault entries, newest call first."""
        args = ["recordings", "list", "--json"]
        if callee is not None:
            args += ["--callee", callee]
        return self._json_list(*args)

    def export_recording(self, recording_id: int, out: Path) -> None:
        self.cli("recordings", "export", str(recording_id), "--out", str(out))

    def _json_list(self, *args: str) -> list[dict[str, Any]]:
        out = self.cli(*args)
        try:
            rows = json.loads(out)
        except json.JSONDecodeError as exc:
            raise GateError(f"{' '.join(args)} printed no JSON ({exc}): {out[:500]}") from None
        if not isinstance(rows, list):
            raise GateError(f"{' '.join(args)} printed {type(rows).__name__}, not a list")
        return rows

    # The server.
    def start(self) -> Gate:
        if self._proc is not None:
            raise GateError("the gate is already running")
        with self.serve_log.open("ab") as log:
            self._proc = subprocess.Popen(
                [self._exe, "serve"],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_listening(self._proc)
        except BaseException:
            self.stop(check=False)
            raise
        return self

    @property
    def pid(self) -> int:
        """The ``serve`` process's pid."""
        if self._proc is None:
            raise GateError("the gate is not running")
        return self._proc.pid

    def stop(self, check: bool = True) -> None:
        """Stop ``serve`` (SIGTERM, then SIGKILL). With ``check``, a server that had already
        died is an error: a crash under test must not go unnoticed."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        died = proc.poll()
        if died is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        if check and died is not None:
            raise GateError(f"dialguard serve had died with {died}\n{self.log_tail()}")

    def __enter__(self) -> Gate:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(check=exc is None)

    def log_tail(self, lines: int = 30) -> str:
        if not self.serve_log.exists():
            return ""
        text = self.serve_log.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.serve_log}\n" + "\n".join(text.splitlines()[-lines:])

    def _wait_listening(self, proc: subprocess.Popen[bytes]) -> None:
        def alive() -> None:
            if proc.poll() is not None:
                raise GateError(f"dialguard serve exited with {proc.returncode}\n{self.log_tail()}")

        try:
            wait_for_listener(self.port, START_TIMEOUT_S, check=alive)
            if self.esl_port is not None:
                wait_for_listener(self.esl_port, START_TIMEOUT_S, check=alive)
        except TimeoutError as exc:
            raise GateError(f"dialguard serve: {exc}\n{self.log_tail()}") from None

"""What the integration tests build their cases from: settings for a gate on a throwaway SQLite
database, the numbers and instants the cases share, the records a gate needs to allow a call, and
the helpers the CLI contract tests share. Fixtures live in ``conftest.py``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from in_process import run_dialguard

from dialguard.agi.testing import FakeAsterisk
from dialguard.app import GateApp
from dialguard.config import Settings, load_settings
from dialguard.policy.model import (
    NumberType,
    RegisteredNumber,
)
from dialguard.storage.store import Store
from dialguard.storage.subject_key import SubjectKey

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
"""A working morning in Beijing: no quiet hours, no holiday."""
WEDNESDAY_10_TEXT = WEDNESDAY_10.isoformat()

GATE_CALLER = "+861088886666"
"""The call centre number the gate fixtures register for ``acme``'s callbacks."""
CLI_CALLER = "+861058001234"
"""The call centre number the CLI tests register (``010-5800-1234``)."""
CALLEE = "+8613800138000"


def gate_settings(tmp_path: Path, **sections: Mapping[str, str]) -> Settings:
    """Settings for a gate whose files all live in ``tmp_path``: SQLite, AGI and ESL on port 0,
    no API, no recording; ``sections`` adds or replaces keys section by section (as ``--set``
    would), e.g. ``api={"enabled": "true", "port": "0"}``."""
    values: dict[str, dict[str, str]] = {
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/dg.db"},
        "agi": {"port": "0"},
        "api": {"enabled": "false"},
        "esl": {"port": "0"},
        "recording": {"enabled": "false"},
        "audit": {
            "signing_key_file": str(tmp_path / "audit-signing.key"),
            "checkpoint_file": str(tmp_path / "audit-checkpoints.jsonl"),
        },
        "dsr": {"hash_key_file": str(tmp_path / "subject-hash.key")},
    }
    for section, keys in sections.items():
        values.setdefault(section, {}).update(keys)
    return load_settings(environ={}, cli=values)


def api_gate_settings(tmp_path: Path, *, api_enabled: bool = True) -> Settings:
    """:func:`gate_settings` for ``serve`` with its admin API on port 0 (no ESL, no periodic
    audit checkpoint) and a subject key created in ``tmp_path``."""
    SubjectKey.create(tmp_path / "subject.key")
    return gate_settings(
        tmp_path,
        api={"enabled": str(api_enabled).lower(), "port": "0"},
        esl={"enabled": "false"},
        audit={"checkpoint_interval_s": "0"},
        dsr={"hash_key_file": str(tmp_path / "subject.key")},
    )


def callback_number(number: str = GATE_CALLER, tenant: str = "acme") -> RegisteredNumber:
    """A call-centre number filed for callbacks, inbound and outbound."""
    return RegisteredNumber(
        number=number,
        tenant=tenant,
        purposes=frozenset({"callback"}),
        inbound_enabled=True,
        outbound_enabled=True,
        number_type=NumberType.CALL_CENTRE,
        filing_ref=None,
        filed_on=None,
        active=True,
    )


async def seed_acme(store: Store, *, caller: str = GATE_CALLER, consent: bool = True) -> None:
    """Tenant ``acme`` with ``caller`` registered for callbacks and (``consent``) the callee's
    consent to them: a call from ``caller`` to :data:`CALLEE` at :data:`WEDNESDAY_10` is
    allowed."""
    async with store.transaction() as tx:
        await tx.tenants.ensure("acme")
        await tx.numbers.add(callback_number(caller))
        if consent:
            await tx.consents.add(
                CALLEE,
                "acme",
                "callback",
                evidence_ref="ticket-42",
                channel="web",
                given_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
            )


def asterisk_for(gate: GateApp) -> FakeAsterisk:
    """A fake Asterisk that dials ``gate``'s FastAGI port."""
    assert gate.agi is not None
    return FakeAsterisk(gate.agi.port)


Run = Callable[..., subprocess.CompletedProcess[str]]
"""``dg(*args, expect=0, **env)``: one ``dialguard`` command (the ``dg`` fixture)."""


def seeded(dg: Run) -> Run:
    """``dg`` after registering the caller and the callee's consent through the CLI."""
    dg("numbers", "add", "010-5800-1234", "--tenant", "acme", "--purpose", "callback")
    dg("consent", "add", "13800138000", "--tenant", "acme", "--purpose", "callback",
       "--evidence", "ticket-42", "--given", "2026-01-01T00:00:00+08:00")  # fmt: skip
    return dg


def check_json(dg: Run, *args: str, expect: int) -> dict[str, object]:
    """``dialguard check`` from :data:`CLI_CALLER` to :data:`CALLEE` for ``acme``, as JSON."""
    result = dg("check", "--caller", CLI_CALLER, "--callee", CALLEE, "--tenant", "acme",
                "--json", *args, expect=expect)  # fmt: skip
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def environment(tmp_path: Path) -> dict[str, str]:
    """A ``dialguard`` process's whole environment: the test's without its ``DIALGUARD_*``
    variables, then a SQLite database and every key file in ``tmp_path``, recording and ESL off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALGUARD_")}
    return {
        **env,
        "DIALGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dg.db",
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_DSR_HASH_KEY_FILE": str(tmp_path / "subject-hash.key"),
        "DIALGUARD_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "DIALGUARD_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "DIALGUARD_RECORDING_KEYRING_FILE": str(tmp_path / "recording-keys.json"),
        "DIALGUARD_RECORDING_ENABLED": "false",
        "DIALGUARD_ESL_ENABLED": "false",
    }


def dialguard(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``dialguard ARGS`` in-process in :func:`environment` (``env`` added), run in
    ``tmp_path`` with an empty config file unless the test wrote one."""
    if not (tmp_path / "dialguard.toml").exists():
        (tmp_path / "dialguard.toml").write_text("")
    return run_dialguard(args, env={**environment(tmp_path), **env}, cwd=tmp_path)


DIALGUARD_PROCESS = [sys.executable, "-m", "dialguard"]
"""The real entry point, for the few tests that need a process of its own."""


def dialguard_process(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """:func:`dialguard` as a process of its own (``python -m dialguard``)."""
    if not (tmp_path / "dialguard.toml").exists():
        (tmp_path / "dialguard.toml").write_text("")
    return subprocess.run(
        [*DIALGUARD_PROCESS, *args],
        env={**environment(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: …`` line the command ended with (exit 2, no traceback)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def closed_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

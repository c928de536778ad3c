"""Start-up cost of the CLI: ``dialguard --help`` and ``dialguard check`` import only what they use
(the heavy libraries are loaded by the commands that need them), and the table ``--help`` is listed
from matches the commands it loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dialguard.cli.main import COMMANDS, cli, load_command

SERVING = (
    "aiohttp", "alembic", "mako", "numpy", "rich", "jinja2", "weasyprint", "prometheus_client",
    "phonenumbers.geocoder", "dialguard.api", "dialguard.agi", "dialguard.console",
    "dialguard.reports", "dialguard.esl.server", "dialguard.recording.ingest",
)  # fmt: skip
"""What serves calls, the API, reports and migrations: ``check`` loads none of it."""
HEAVY = (
    *SERVING, "sqlalchemy", "aiosqlite", "asyncpg", "asyncio", "phonenumbers", "cryptography",
    "dialguard.storage", "dialguard.policy", "dialguard.ops", "dialguard.gate.service",
    "dialguard.numbers",
)  # fmt: skip
"""What ``dialguard --help`` must not load: each costs tens to hundreds of milliseconds, and
listing the commands needs none of it (the rule packs, the store, the event loop)."""

_PROBE = """
import json, sys
from dialguard.cli.main import main
sys.argv = ["dialguard", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(args: list[str], env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
    """Run ``dialguard ARGS`` in a fresh interpreter: its exit code, the modules it imported,
    and what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    printed, _, tail = result.stdout.rpartition("\nMODULES ")
    assert tail, (result.stdout, result.stderr)
    found = json.loads(tail)
    return found["code"], set(found["modules"]), printed + result.stderr


def heavy_in(modules: set[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    code, modules, printed = loaded_by(args)
    assert code == 0
    assert ("serve" in printed) is (args == ["--help"])
    assert heavy_in(modules) == []
    commands = sorted(m for m in modules if m.startswith("dialguard.cli."))
    assert commands == ["dialguard.cli.main", "dialguard.cli.runtime"]


STORE_AND_EVENT_LOOP = (
    "sqlalchemy", "aiosqlite", "asyncpg", "alembic", "dialguard.storage.store", "asyncio",
)  # fmt: skip
"""What ``check`` on an SQLite file does without: it reads the facts as the gate does, on plain
``sqlite3`` with the precompiled statements, and opens no store and no event loop."""


def store_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "dialguard.toml").write_text("")
    return {
        "DIALGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dg.db",
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_DSR_HASH_KEY_FILE": str(tmp_path / "subject-hash.key"),
        "DIALGUARD_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "DIALGUARD_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "DIALGUARD_RECORDING_ENABLED": "false",
    }


CHECK = ["check", "--caller", "01058001234", "--callee", "13800138000", "--tenant", "acme",
         "--at", "2026-11-25T10:00:00+08:00"]  # fmt: skip


def test_check_on_sqlite_loads_no_store_no_event_loop_and_nothing_that_serves(
    tmp_path: Path,
) -> None:
    env = store_env(tmp_path)
    code, _, printed = loaded_by(["init"], env)
    assert code == 0, printed
    assert loaded_by(["tenants", "add", "acme"], env)[0] == 0
    code, modules, printed = loaded_by(CHECK, env)
    assert code == 1, printed  # a deny (no registered caller ID): the check ran to its end
    assert "callerid.unregistered" in printed
    assert heavy_in(modules, (*SERVING, *STORE_AND_EVENT_LOOP)) == []
    assert "dialguard.storage.facts" in modules  # the probe sees the facts were read


def test_check_on_a_file_a_store_would_refuse_says_why_as_before(tmp_path: Path) -> None:
    """Without a schema the fast path stands aside, and opening a store names the fix."""
    env = store_env(tmp_path)
    (tmp_path / "dg.db").touch()
    code, modules, printed = loaded_by(CHECK, env)
    assert code == 2, printed
    assert "database schema is at revision none (empty database)" in printed
    assert "run `dialguard init`" in printed
    assert "sqlalchemy" in modules


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_lists_each_command_as_it_is(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.get_short_help_str(limit=1000) == COMMANDS[name].help


def test_every_command_module_is_reachable_from_the_table() -> None:
    """A command module that no table entry loads (itself or as a subgroup) would be unreachable."""
    for name in COMMANDS:
        load_command(name)
    package = Path(__file__).parents[2] / "dialguard" / "cli"
    unreached = [
        path.stem
        for path in package.glob("*.py")
        if path.stem != "__init__" and f"dialguard.cli.{path.stem}" not in sys.modules
    ]
    assert unreached == []


def test_help_names_the_commands_without_loading_them() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        assert name in result.output
        assert entry.help[:30] in result.output

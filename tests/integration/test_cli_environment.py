"""What the machine lacks ends in one line naming the file, URL or setting and what to do, exit
status 2, never a traceback: through the CLI, as an operator meets it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DIALGUARD = [sys.executable, "-m", "dialguard"]
CALL = ["check", "--caller", "01058001234", "--callee", "13800138000"]


def environment(tmp_path: Path) -> dict[str, str]:
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
    if not (tmp_path / "dialguard.toml").exists():
        (tmp_path / "dialguard.toml").write_text("")
    return subprocess.run(
        [*DIALGUARD, *args],
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


@pytest.mark.parametrize("command", [["init"], CALL])
def test_a_database_file_that_cannot_be_created(tmp_path: Path, command: list[str]) -> None:
    # /proc takes no new files whoever runs the test (root included)
    url = "sqlite+aiosqlite:////proc/dialguard-nowhere/dg.db"
    line = one_line_error(dialguard(tmp_path, *command, DIALGUARD_DATABASE_URL=url))
    assert "database.url" in line
    assert "/proc/dialguard-nowhere/dg.db" in line
    assert "point database.url at a file you may write" in line


@pytest.mark.parametrize("command", [["init"], CALL])
def test_a_database_url_that_does_not_parse(tmp_path: Path, command: list[str]) -> None:
    url = "postgres//dg:hunter2@db.example/dg"
    line = one_line_error(dialguard(tmp_path, *command, DIALGUARD_DATABASE_URL=url))
    assert "database.url: cannot parse" in line
    assert "postgresql+asyncpg://" in line  # the form it should have
    assert "hunter2" not in line


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["init"], CALL])
def test_a_database_server_that_does_not_answer(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql+asyncpg://dg:hunter2@127.0.0.1:{closed_port()}/dg"
    line = one_line_error(dialguard(tmp_path, *command, DIALGUARD_DATABASE_URL=url))
    assert "(database.url)" in line
    assert "dg:***@127.0.0.1" in line
    assert "hunter2" not in line
    assert "check the server is running" in line


def test_a_config_file_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "etc").write_text("a file where a directory should be")
    config = tmp_path / "etc" / "dialguard.toml"
    line = one_line_error(dialguard(tmp_path, *CALL, DIALGUARD_CONFIG=str(config)))
    assert f"cannot read config file {config}" in line
    assert "--config" in line


def test_a_config_file_that_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "dialguard.toml").write_bytes(b"\xff\xfe[\x00d\x00b\x00]\x00")
    line = one_line_error(dialguard(tmp_path, *CALL))
    assert str(tmp_path / "dialguard.toml") in line


def test_a_key_file_in_a_directory_that_cannot_be_made(tmp_path: Path) -> None:
    line = one_line_error(
        dialguard(tmp_path, "init", DIALGUARD_DSR_HASH_KEY_FILE="/proc/dialguard-nowhere/k")
    )
    assert "(dsr.hash_key_file)" in line
    assert "set dsr.hash_key_file to another path" in line


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_port_already_taken(tmp_path: Path, taken_port: int) -> None:
    assert dialguard(tmp_path, "init").returncode == 0
    result = dialguard(tmp_path, "serve", "--set", "agi.port=0", "--set", f"api.port={taken_port}")
    line = one_line_error(result)
    assert f"api.port: cannot listen on 127.0.0.1:{taken_port}" in line
    assert "set api.port to a free port" in line


def test_the_readme_national_build_on_a_fresh_machine(tmp_path: Path) -> None:
    """The CLI guide's `dnc national build … --index /var/lib/dialguard/us.dnc`: the index's
    directory does not exist yet on a fresh machine; it is made, as the database's is."""
    source = tmp_path / "us.txt"
    source.write_text("2025550123\n2025550124\n")
    index = tmp_path / "var" / "lib" / "dialguard" / "us.dnc"
    result = dialguard(
        tmp_path, "dnc", "national", "build", str(source), "--index", str(index),
        "--layout", "plain",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert index.is_file()
    nowhere = "/proc/dialguard-nowhere/us.dnc"
    result = dialguard(tmp_path, "dnc", "national", "build", str(source), "--index", nowhere)
    assert "/proc/dialguard-nowhere" in one_line_error(result)

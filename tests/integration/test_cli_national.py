"""``dialguard dnc national``: build, apply a change list, and the gate denying listed callees."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from in_process import run_dialguard

WEDNESDAY_10_NY = "2026-11-25T10:00:00-05:00"


def dg(tmp_path: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DIALGUARD_NOW"}
    env |= {
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dg.db",
        "DIALGUARD_POLICY_NATIONAL_DNC": str(tmp_path / "us.dnc"),
        "DIALGUARD_RECORDING_KEYRING_FILE": str(tmp_path / "recording-keys.json"),
    }
    result = run_dialguard(args, env=env, cwd=tmp_path)
    assert result.returncode == expect, (args, result.stdout, result.stderr)
    return result


def test_build_apply_and_the_gate_denies_listed_callees(tmp_path: Path) -> None:
    (tmp_path / "dialguard.toml").write_text("")
    full = tmp_path / "full.txt"
    full.write_text("202,5550123\n305,5550100\n212,5550199\n")
    out = dg(tmp_path, "dnc", "national", "build", str(full), "--index", str(tmp_path / "us.dnc"))
    assert "3 numbers" in out.stdout
    status = json.loads(
        dg(
            tmp_path, "dnc", "national", "status", "--index", str(tmp_path / "us.dnc"), "--json"
        ).stdout
    )
    assert status["numbers"] == 3 and status["pending_changes"] == 0

    changes = tmp_path / "changes.txt"
    changes.write_text("202,5550123,D\n415,5550111,A\n")
    applied = dg(
        tmp_path, "dnc", "national", "apply", str(changes), "--index", str(tmp_path / "us.dnc")
    )
    assert "1 added, 1 removed" in applied.stdout

    dg(tmp_path, "init")
    dg(tmp_path, "tenants", "add", "acme")
    dg(tmp_path, "numbers", "add", "+12025550000", "--tenant", "acme")

    def reasons(callee: str) -> list[str]:
        result = dg(
            tmp_path, "check", "--caller", "+12025550000", "--callee", callee, "--tenant",
            "acme", "--at", WEDNESDAY_10_NY, "--json", expect=1,
        )  # fmt: skip
        return [r["code"] for r in json.loads(result.stdout)["reasons"]]

    assert "callee.dnc" in reasons("+14155550111")  # added by the change list
    assert "callee.dnc" in reasons("+13055550100")  # in the full list
    assert "callee.dnc" not in reasons("+12025550123")  # deleted by the change list


def test_bad_lines_are_named(tmp_path: Path) -> None:
    (tmp_path / "dialguard.toml").write_text("")
    full = tmp_path / "full.txt"
    full.write_text("202,5550123\n20,55501\n")
    result = dg(
        tmp_path, "dnc", "national", "build", str(full), "--index", str(tmp_path / "us.dnc"),
        expect=2,
    )  # fmt: skip
    assert "line 2" in result.stderr and "20,55501" in result.stderr

"""Where settings come from, as an operator following the README meets it: keys follow a scratch
database, ``--config``/``--set`` work after the subcommand, misspelt ``DIALGUARD_*`` variables
are refused, and the README and the docs name only variables that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from builders import DIALGUARD_PROCESS, environment, one_line_error
from in_process import run_dialguard

from dialguard.cli.main import option_variables
from dialguard.config import (
    DEFAULT_CONFIG_PATH,
    OTHER_VARIABLES,
    Settings,
    load_settings,
    setting_variables,
)

ROOT = Path(__file__).parents[2]
CALL = ["check", "--caller", "01058001234", "--callee", "13800138000"]
AT = ["--at", "2026-11-25T10:00:00+08:00"]


def bare_environment() -> dict[str, str]:
    """The environment without any DIALGUARD_* variable (the suite sets key paths for all)."""
    return {k: v for k, v in environment(Path("/nonexistent")).items() if "DIALGUARD_" not in k}


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_dialguard(args, env={**bare_environment(), **env}, cwd=cwd)


def test_without_a_config_file_keys_follow_the_database(tmp_path: Path) -> None:
    assert not DEFAULT_CONFIG_PATH.exists(), "this test needs a machine without a config file"
    data = tmp_path / "var"
    url = f"sqlite+aiosqlite:///{data}/dialguard.db"
    result = run(tmp_path, "init", DIALGUARD_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert f"kept beside the database in {data}" in result.stdout
    for name in ("subject-hash.key", "audit-signing.key", "recording-keys.json"):
        assert (data / name).is_file()
        assert f"{data / name}" in result.stdout
    assert "/etc/dialguard" not in result.stdout
    assert (data / "audit-checkpoints.jsonl").is_file()
    assert run(tmp_path, "tenants", "add", "default", DIALGUARD_DATABASE_URL=url).returncode == 0
    result = run(tmp_path, *CALL, *AT, DIALGUARD_DATABASE_URL=url)
    assert result.returncode == 1, result.stderr  # the store opened with the keys beside it


def test_settings_given_are_kept_and_a_config_file_keeps_the_defaults(tmp_path: Path) -> None:
    assert not DEFAULT_CONFIG_PATH.exists(), "this test needs a machine without a config file"
    url = f"sqlite+aiosqlite:///{tmp_path}/scratch/dg.db"
    env = {"DIALGUARD_DATABASE_URL": url, "DIALGUARD_DSR_HASH_KEY_FILE": "/srv/k/subject.key"}
    no_file = load_settings(None, env)
    assert no_file.dsr.hash_key_file == "/srv/k/subject.key"  # given: kept
    assert no_file.audit.signing_key_file == f"{tmp_path}/scratch/audit-signing.key"
    assert no_file.audit.checkpoint_file == f"{tmp_path}/scratch/audit-checkpoints.jsonl"
    assert no_file.recording.keyring_file == f"{tmp_path}/scratch/recording-keys.json"
    assert no_file.recording.regions == f"cn={tmp_path}/scratch/recordings/cn"
    set_on_the_line = load_settings(None, env, {"audit": {"signing_key_file": "/srv/a.key"}})
    assert set_on_the_line.audit.signing_key_file == "/srv/a.key"
    config = tmp_path / "dialguard.toml"
    config.write_text("")
    with_file = load_settings(config, env)  # an installed gate: the documented defaults
    assert with_file.audit.signing_key_file == Settings().audit.signing_key_file
    assert with_file.recording.regions == Settings().recording.regions
    assert load_settings(None, {}) == Settings()  # the default database: defaults unchanged


def test_config_and_set_after_the_subcommand(tmp_path: Path) -> None:
    env = environment(tmp_path)
    env.pop("DIALGUARD_DATABASE_URL")
    (tmp_path / "dialguard.toml").write_text("")
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    earlier, later = (f"database.url=sqlite+aiosqlite:///{db}" for db in (first, second))
    result = run_dialguard(["--set", earlier, "init", "--set", later], env=env)
    assert result.returncode == 0, result.stderr
    assert second.exists() and not first.exists()  # the later one wins
    config = tmp_path / "later.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{second}"\n')
    tenant = ["tenants", "add", "default", "--config", str(config)]
    assert run_dialguard(tenant, env=env).returncode == 0
    env["DIALGUARD_CONFIG"] = str(tmp_path / "absent.toml")  # overridden by --config below
    result = run_dialguard([*CALL, *AT, "--config", str(config), "--json"], env=env)
    assert result.returncode == 1, result.stderr
    assert '"verdict": "deny"' in result.stdout


def test_set_after_a_nested_subcommand_is_listed_in_its_help(tmp_path: Path) -> None:
    result = run(tmp_path, "dnc", "national", "build", "--help")
    assert result.returncode == 0
    assert "--set SECTION.KEY=VALUE" in result.stdout
    assert "--config FILE" in result.stdout


def test_an_unknown_dialguard_variable_is_refused_naming_the_real_one(tmp_path: Path) -> None:
    env = environment(tmp_path)
    (tmp_path / "dialguard.toml").write_text("")
    assert run_dialguard(["init"], env=env).returncode == 0
    assert run_dialguard(["tenants", "add", "acme"], env=env).returncode == 0
    result = run_dialguard([*CALL, *AT], env={**env, "DIALGUARD_API_PROT": "9000"})
    line = one_line_error(result)
    assert "unknown variable 'DIALGUARD_API_PROT'" in line
    assert "did you mean DIALGUARD_API_PORT?" in line
    result = run_dialguard([*CALL, *AT], env={**env, "DIALGUARD_CHECK_TENNANT": "acme"})
    assert "did you mean DIALGUARD_CHECK_TENANT?" in one_line_error(result)
    # a real option variable is not a typo; through a process of its own, the way cron runs it
    result = subprocess.run(
        [*DIALGUARD_PROCESS, *CALL, *AT, "--json"],
        env={**env, "DIALGUARD_CHECK_TENANT": "acme"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "tenant 'acme'" in result.stdout


def channel_variables() -> set[str]:
    """The channel variables the shipped dialplans set or read (Asterisk and FreeSWITCH)."""
    found: set[str] = set()
    for path in (ROOT / "dialplan").rglob("*"):
        if path.is_file():
            found |= set(re.findall(r"DIALGUARD_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")))
    return found


DOCUMENTS = [
    "README.md",
    "CHANGELOG.md",
    *sorted(page.relative_to(ROOT).as_posix() for page in (ROOT / "docs").rglob("*.md")),
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_dialguard_name_in_the_docs_is_real(document: str) -> None:
    text = (ROOT / document).read_text("utf-8")
    named = set(re.findall(r"DIALGUARD_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_<])", text))
    real = (
        setting_variables().keys() | OTHER_VARIABLES.keys() | option_variables()
    ) | channel_variables()
    assert sorted(named - real) == []
    assert "DIALGUARD_DATABASE_URL" in named or document != "README.md"

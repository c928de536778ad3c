"""``dialguard numbers`` through the CLI's own entry point (exit statuses included) and the same
operations through the admin API, on SQLite and PostgreSQL: access codes named by class, one
holder at a time, transfer, history, reporting, overdue changes and expiring filings."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pg_databases import MigratedCopies

from dialguard.cli.main import main
from dialguard.config import Settings

Cli = Callable[..., tuple[int, str, str]]
NOW = "2026-10-20T10:00:00+08:00"


@pytest.fixture
async def cli(
    db_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    migrated_copies: MigratedCopies,
) -> Cli:
    await migrated_copies.migrate(db_settings)
    monkeypatch.setenv("DIALGUARD_DATABASE_URL", db_settings.database.url)
    monkeypatch.setenv("DIALGUARD_DSR_HASH_KEY_FILE", str(tmp_path / "subject.key"))
    monkeypatch.setenv("DIALGUARD_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("DIALGUARD_ACTOR", "ops")

    def run(*args: str, now: str = NOW) -> tuple[int, str, str]:
        monkeypatch.setenv("DIALGUARD_NOW", now)
        monkeypatch.setattr(sys, "argv", ["dialguard", *args])
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_the_lifecycle_through_the_cli(cli: Cli, db_settings: Settings) -> None:
    for tenant in ("acme", "bank1", "bank2"):
        assert cli("tenants", "add", tenant)[0] == 0
    code, out, _ = cli(
        "numbers", "add", "10658001", "--tenant", "acme", "--type", "carrier-marketing",
        "--purpose", "marketing", "--filed-on", "2026-01-05", "--filing-ref", "MIIT-2",
    )  # fmt: skip
    assert code == 0 and out.startswith("+8610658001 (acme): created [sms-port")
    code, _, err = cli("numbers", "add", "10658001", "--tenant", "acme", "--type", "call-centre")
    assert code == 2 and "sms-port" in err and "carrier-marketing" in err

    code, out, _ = cli("numbers", "add", "95555", "--tenant", "bank1", "--filed-on", "2026-01-05")
    assert code == 0 and "service-national" in out
    code, _, err = cli("numbers", "add", "+86 95555", "--tenant", "bank2")
    assert code == 2
    assert "registered to tenant 'bank1'" in err and "numbers end" in err

    # a change on Wednesday 23 September, not reported: overdue after 14 October (National
    # Day and the make-up Saturday counted)
    code, _, _ = cli(
        "numbers", "add", "95555", "--tenant", "bank1", "--no-inbound",
        "--effective-from", "2026-09-23", now="2026-09-23T09:00:00+08:00",
    )  # fmt: skip
    assert code == 0
    assert cli("numbers", "overdue", now="2026-10-14T10:00:00+08:00")[0] == 0
    code, out, _ = cli("numbers", "overdue", now="2026-10-15T10:00:00+08:00")
    assert code == 1
    assert "+8695555  bank1  changed on 2026-09-23: due by 2026-10-14, NOT REPORTED" in out

    history = json.loads(cli("numbers", "history", "008695555", "--json")[1])
    assert [(h["change"], h["terms"]["tenant"]) for h in history] == [
        ("filed", "bank1"),
        ("changed", "bank1"),
    ]
    changed = history[1]
    assert changed["terms"]["inbound_enabled"] is False
    assert changed["terms"]["effective_from"].startswith("2026-09-22T16:00:00")
    code, _, _ = cli("numbers", "report", str(changed["change_id"]), "--filed-on", "2026-10-15")
    assert code == 0
    code, out, _ = cli("numbers", "overdue")
    assert code == 1 and "reported 2026-10-15 (late)" in out
    assert cli("numbers", "report", "9999", "--filed-on", "2026-10-15")[0] == 2

    # transfer: end, then add for the other tenant
    assert cli("numbers", "end", "95555", "--tenant", "bank2")[0] == 2
    code, out, _ = cli("numbers", "end", "95555", "--tenant", "bank1", "--filed-on", "2026-10-20")
    assert (code, out) == (0, "+8695555 (bank1): ended\n")
    code, _, _ = cli(
        "numbers", "add", "95555", "--tenant", "bank2", "--filed-on", "2026-10-20",
        "--expires-on", "2026-11-10",
    )  # fmt: skip
    assert code == 0
    history = json.loads(cli("numbers", "history", "95555", "--json")[1])
    assert [(h["change"], h["terms"]["tenant"]) for h in history][-2:] == [
        ("ended", "bank1"),
        ("filed", "bank2"),
    ]
    listed = json.loads(cli("numbers", "list", "--json")[1])
    assert {(r["number"], r["tenant"]) for r in listed} == {
        ("+8610658001", "acme"),
        ("+8695555", "bank2"),
    }
    assert len(json.loads(cli("numbers", "list", "--ended", "--json")[1])) == 3

    code, out, _ = cli("numbers", "expiring", "--within", "30d")
    assert out == "+8695555  bank2  expires 2026-11-10  ref -\n"
    assert cli("numbers", "expiring", "--within", "2w")[1] == ""
    assert cli("numbers", "expiring", "--within", "soon")[0] == 2

    code, out, _ = cli("audit", "tail", "-n", "20", "--json")
    actions = [e["action"] for e in json.loads(out)]
    assert actions.count("numbers.end") == 1 and actions.count("numbers.report") == 1

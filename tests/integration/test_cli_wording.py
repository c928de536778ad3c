"""What the CLI prints reads as sentences, in order, once: no Python reprs or storage keys,
overlapping banned phrases reported once, calendars in date order, bad calendar files named,
impossible dates called impossible, and a narrow demo console losing no reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from devkit.demo import DEMO, Outcome, show_outcomes
from dialguard.cli.main import cli
from dialguard.policy.calendar import CalendarError
from dialguard.policy.rules import Frequency


@pytest.fixture
def dg(tmp_path: Path) -> Any:
    (tmp_path / "dialguard.toml").write_text('[numbers]\ndefault_region = "CN"\n')
    env = {
        "DIALGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dg.db",
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_DSR_HASH_KEY_FILE": str(tmp_path / "subject.key"),
        "DIALGUARD_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "DIALGUARD_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "DIALGUARD_RECORDING_KEYRING_FILE": str(tmp_path / "keys.json"),
        "DIALGUARD_NOW": "2026-11-25T10:00:00+08:00",
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env)

    assert run("init").exit_code == 0
    return run


def test_an_overlapping_phrase_is_reported_once(dg: Any, tmp_path: Path) -> None:
    assert dg("tenants", "add", "acme", "--industry", "finance").exit_code == 0
    (tmp_path / "spring.txt").write_text("您好!\n这款产品100%保本, 无风险.\n")
    added = dg(
        "scripts", "add", str(tmp_path / "spring.txt"), "--campaign", "s", "--tenant", "acme"
    )
    lines = added.output.splitlines()
    assert lines[:2] == [
        f"{tmp_path / 'spring.txt'}:2:5: 100%保本 (finance)",
        f"{tmp_path / 'spring.txt'}:2:13: 无风险 (finance)",
    ], added.output
    assert "(2 banned phrase(s); packs: finance)" in lines[2]


def test_dsr_output_has_no_reprs_or_storage_keys(dg: Any) -> None:
    corrected = dg("dsr", "correct", "13900139000", "--minor")
    assert corrected.exit_code == 0, corrected.output
    assert "contact flags none → minor: yes, guardian: no" in corrected.output
    erased = dg("dsr", "erase", "13900139000", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "completed: erased" in erased.output and "1 contact flags" in erased.output
    for internal in ("{", "DsrStatus", "dnc_kept_by_keyed_hash", "frequency_resets"):
        assert internal not in erased.output + corrected.output


def test_holidays_show_is_in_date_order(dg: Any) -> None:
    shown = dg("holidays", "show", "--year", "2026")
    days = [line.split()[0] for line in shown.output.splitlines()[1:]]
    assert days == sorted(days) and len(days) > 10
    assert any("make-up working day" in line for line in shown.output.splitlines())


def test_bad_calendar_files_are_named(dg: Any, tmp_path: Path) -> None:
    gbk = tmp_path / "calendar.toml"
    gbk.write_bytes('[years.2027]\nsource = "国务院办公厅"\n'.encode("gbk"))
    result = dg("holidays", "validate", str(gbk))
    assert isinstance(result.exception, CalendarError)
    assert str(result.exception).startswith(f"{gbk}: not UTF-8 text (byte 0xb9 at offset 23)")
    impossible = tmp_path / "impossible.toml"
    impossible.write_text(
        '[years.2027]\nsource = "notice"\nholidays = [{ name = "x", from = "2027-02-30" }]\n'
    )
    result = dg("holidays", "validate", str(impossible))
    assert isinstance(result.exception, CalendarError)
    assert "impossible date '2027-02-30' (day is out of range for month)" in str(result.exception)


def test_one_attempt_is_singular() -> None:
    reasons = Frequency().evaluate(
        cast(
            Any,
            SimpleNamespace(
                now=datetime(2026, 11, 25, 10),
                pack=SimpleNamespace(
                    frequency=[SimpleNamespace(window=timedelta(days=1),
                                               max_attempts=1)]
                ),
                facts=SimpleNamespace(
                    recent_attempts=[datetime(2026, 11, 25, 9)]
                ),
            ),
        )
    )  # fmt: skip
    assert reasons[0].message == "1 attempt in the last 1440 min (at most 1)"


def test_a_narrow_demo_console_loses_no_reason() -> None:
    call = DEMO.calls[-1]
    sip = SimpleNamespace(final_codes=[403], calls=[SimpleNamespace(setup_s=0.012)])
    reasons = [{"code": "callerid.unregistered", "message": "caller ID is not registered"}]
    decision = {"verdict": "deny", "reasons": reasons}
    outcome = Outcome(call, cast(Any, sip), decision)
    console = Console(width=80, record=True, color_system=None)
    show_outcomes(console, [outcome], DEMO)
    text = console.export_text()
    assert "• callerid.unregistered: caller ID is not registered" in text
    assert max(len(line) for line in text.splitlines()) <= 80

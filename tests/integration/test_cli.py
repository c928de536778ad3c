"""The CLI contract, end to end (in-process, as a fresh process would run it: the ``dg``
fixture), on a fresh SQLite database per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import CALLEE, Run, check_json, seeded
from builders import CLI_CALLER as CALLER
from builders import WEDNESDAY_10_TEXT as WEDNESDAY_10


def test_init_is_idempotent(dg: Run) -> None:
    assert "revision" in dg("init").stdout


@pytest.mark.parametrize(
    "form", ["+86 138 0013 8000", "13800138000", "008613800138000", "+8613800138000"]
)
def test_every_format_is_the_same_number(dg: Run, form: str) -> None:
    seeded(dg)
    dg("dnc", "add", form, "--reason", "opted out")
    listed = json.loads(dg("dnc", "check", "13800138000", "--json", expect=1).stdout)
    assert listed["number"] == CALLEE and listed["listed"] is True
    again = dg("dnc", "add", "+8613800138000", "--reason", "again")
    assert "unchanged" in again.stdout


def test_numbers_registry_upserts_one_row(dg: Run) -> None:
    dg("numbers", "add", "01058001234", "--tenant", "acme", "--purpose", "callback")
    out = dg(
        "numbers",
        "add",
        "+86 10 5800 1234",
        "--tenant",
        "acme",
        "--purpose",
        "callback",
        "--purpose",
        "consultation",
        "--no-outbound",
        "--filing-ref",
        "MIIT-1",
        "--filed-on",
        "2026-01-05",
    )
    assert "updated" in out.stdout
    rows = json.loads(dg("numbers", "list", "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["number"] == CALLER and row["tenant"] == "acme"
    assert sorted(row["purposes"]) == ["callback", "consultation"]
    assert row["outbound_enabled"] is False and row["filing_ref"] == "MIIT-1"


def test_invalid_numbers_are_named_with_exit_2(dg: Run) -> None:
    result = dg("numbers", "add", "1234", "--tenant", "acme", expect=2)
    assert "1234" in result.stderr and "invalid" in result.stderr
    result = dg("check", "--caller", CALLER, "--callee", "555-HELLO", expect=2)
    assert "555-HELLO" in result.stderr
    result = dg("check", "--caller", CALLER, "--callee", CALLEE, "--at", "tomorrow", expect=2)
    assert "--at" in result.stderr


def test_check_allows_and_denies_and_records_nothing(dg: Run) -> None:
    seeded(dg)
    allowed = check_json(dg, "--at", WEDNESDAY_10, expect=0)
    assert allowed["verdict"] == "allow"
    assert allowed["reasons"] == []
    assert allowed["policy_version"] == "cn-2026.1"
    assert allowed["consent_ref"] == "ticket-42"
    denied = check_json(dg, "--at", "2026-11-25T21:00:00+08:00", expect=1)
    assert denied["verdict"] == "deny"
    assert denied["reasons"] == [
        {
            "code": "time.quiet_hours",
            "message": "callee local time 21:00 (Asia/Shanghai) is within quiet hours 21:00-09:00",
        }
    ]
    assert denied["next_allowed_at"] == "2026-11-26T09:00:00+08:00"
    assert allowed["next_allowed_at"] is None
    assert json.loads(dg("decisions", "list", "--json").stdout) == []


def test_check_text_says_when_a_denied_call_may_be_retried(dg: Run) -> None:
    seeded(dg)
    args = ("check", "--caller", CALLER, "--callee", CALLEE, "--tenant", "acme", "--at")
    quiet = dg(*args, "2026-11-25T22:00:00+08:00", expect=1).stdout
    assert "next allowed at: 2026-11-26T09:00:00+08:00" in quiet
    dg("dnc", "add", CALLEE, "--reason", "asked")
    listed = dg(*args, "2026-11-25T22:00:00+08:00", expect=1).stdout
    assert "callee.dnc" in listed and "next allowed" not in listed


def test_check_defaults_tenant_purpose_and_time(dg: Run) -> None:
    seeded(dg)
    dg("tenants", "add", "default")
    result = dg("check", "--caller", CALLER, "--callee", CALLEE, "--json", expect=None)
    data = json.loads(result.stdout)
    assert data["tenant"] == "default" and data["purpose"] == "callback"
    assert data["dry_run"] is True
    text = dg("check", "--caller", CALLER, "--callee", CALLEE, expect=None).stdout
    assert "dry run: nothing recorded" in text
    assert json.loads(dg("decisions", "list", "--json").stdout) == []
    assert {r["code"] for r in data["reasons"]} >= {"callerid.other_tenant"}  # acme holds it
    frozen = dg(
        "check",
        "--caller",
        CALLER,
        "--callee",
        CALLEE,
        "--tenant",
        "acme",
        "--json",
        expect=1,
        DIALGUARD_NOW="2026-10-02T10:00:00+08:00",
    )
    assert [r["code"] for r in json.loads(frozen.stdout)["reasons"]] == ["time.holiday"]


def test_options_read_from_the_environment(dg: Run) -> None:
    seeded(dg)
    result = dg(
        "check",
        "--caller",
        CALLER,
        "--callee",
        CALLEE,
        "--json",
        "--at",
        WEDNESDAY_10,
        expect=0,
        DIALGUARD_CHECK_TENANT="acme",
    )
    assert json.loads(result.stdout)["tenant"] == "acme"


def test_unknown_names_are_bad_input(dg: Run) -> None:
    """Typos do not become tenants (or purposes, or channels): exit 2, the closest name."""
    result = dg("consent", "add", CALLEE, "--tenant", "amce", "--purpose", "callback",
                "--evidence", "e", expect=2)  # fmt: skip
    assert result.stderr == (
        "error: unknown tenant 'amce'; did you mean 'acme'? "
        "create it with `dialguard tenants add`\n"
    )
    result = dg("check", "--caller", CALLER, "--callee", CALLEE, "--tenant", "acme",
                "--purpose", "teleporting", expect=2)  # fmt: skip
    assert "unknown purpose 'teleporting'" in result.stderr
    assert [t["name"] for t in json.loads(dg("tenants", "list", "--json").stdout)] == ["acme"]
    helped = dg("consent", "add", "--help").stdout
    assert "callback, consultation, marketing" in " ".join(helped.split())


def test_naive_times_are_the_operators_local_time(dg: Run) -> None:
    """No offset: display.timezone (default: the default region's zone, Asia/Shanghai for CN);
    check prints the instant and the callee's local time it decided on, ALLOW too."""
    seeded(dg)
    call = ("check", "--caller", CALLER, "--callee", CALLEE, "--tenant", "acme", "--at")
    quiet = dg(*call, "2026-11-26T08:30:00", expect=1)
    assert "time.quiet_hours: callee local time 08:30 (Asia/Shanghai)" in quiet.stdout
    assert "at 2026-11-26 08:30:00+08:00; callee local time 2026-11-26 08:30 (Asia/Shanghai)" in (
        quiet.stdout
    )
    allowed = dg(*call, "2026-11-26T10:30:00", expect=0)
    assert allowed.stdout.startswith("ALLOW")
    assert "callee local time 2026-11-26 10:30 (Asia/Shanghai)" in allowed.stdout
    in_utc = dg(*call, "2026-11-26T00:30:00", expect=1, DIALGUARD_DISPLAY_TIMEZONE="UTC")
    assert "at 2026-11-26 00:30:00+00:00; callee local time 2026-11-26 08:30" in in_utc.stdout
    bad = dg(*call, "2026-11-26T10:30:00", expect=2, DIALGUARD_DISPLAY_TIMEZONE="Mars/Olympus")
    assert bad.stderr.startswith("error: display.timezone: 'Mars/Olympus' is not an IANA")
    impossible = dg(*call, "2026-02-30T10:00:00", expect=2)
    assert "--at: impossible date (day is out of range for month)" in impossible.stderr
    dg("dsr", "receive", "erase", CALLEE, "--received", "2026-11-24T09:00:00")
    assert "received 2026-11-24 09:00:00+08:00" in dg("dsr", "list").stdout
    assert "received 2026-11-24 01:00:00+00:00" in dg("dsr", "list", "--utc").stdout


def test_unknown_setting_is_named(dg: Run) -> None:
    result = dg("--set", "agi.prot=1", "numbers", "list", expect=2)
    assert "agi.prot" in result.stderr


def test_dnc_blocks_and_removal_keeps_a_reason(dg: Run) -> None:
    seeded(dg)
    dg("dnc", "add", CALLEE, "--tenant", "acme", "--reason", "opted out", "--source", "callee")
    denied = check_json(dg, "--at", WEDNESDAY_10, expect=1)
    assert [r["code"] for r in denied["reasons"]] == ["callee.dnc"]
    dg("dnc", "remove", CALLEE, "--tenant", "acme", expect=2)  # --reason is required
    dg("dnc", "remove", CALLEE, "--tenant", "acme", "--reason", "added by mistake")
    check_json(dg, "--at", WEDNESDAY_10, expect=0)
    dg("dnc", "remove", CALLEE, "--tenant", "acme", "--reason", "twice", expect=1)


def test_dnc_entry_expires(dg: Run) -> None:
    seeded(dg)
    month = ("--reason", "for a month", "--expires", "2026-11-01T00:00:00+08:00")
    dg("dnc", "add", CALLEE, *month, DIALGUARD_NOW="2026-10-01T00:00:00+08:00")
    refused = dg("dnc", "add", CALLEE, *month, expect=2)  # already lapsed: it would block nothing
    assert "expires: is already past" in refused.stderr
    check_json(dg, "--at", WEDNESDAY_10, expect=0)
    denied = check_json(dg, "--at", "2026-10-28T10:00:00+08:00", expect=1)
    assert [r["code"] for r in denied["reasons"]] == ["callee.dnc"]


def test_dnc_import_reports_bad_lines_and_is_idempotent(dg: Run, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("13800138000\n\n+8613900139000\nnot-a-number\n# comment\n12345\n")
    first = dg("dnc", "import", str(plain), expect=1)
    assert "imported 2 new, 0 already listed, 2 bad lines" in first.stdout
    assert f"{plain}:4:" in first.stderr and "not-a-number" in first.stderr
    assert f"{plain}:6:" in first.stderr and "12345" in first.stderr
    again = dg("dnc", "import", str(plain), expect=1)
    assert "imported 0 new, 2 already listed, 2 bad lines" in again.stdout
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("name,number\nwang,13700137000\nli,\nzhao,+86 139 0013 9000\n")
    result = dg("dnc", "import", str(csv_file), "--tenant", "acme", expect=1)
    assert "imported 2 new, 0 already listed, 1 bad lines" in result.stdout
    assert f"{csv_file}:3:" in result.stderr
    dg("dnc", "check", "13700137000", "--tenant", "acme", expect=1)
    dg("tenants", "add", "globex")
    dg("dnc", "check", "13700137000", "--tenant", "globex", expect=0)  # acme's list only
    anywhere = dg("dnc", "check", "13700137000", expect=1)  # no scope: every list it is on
    assert anywhere.stdout == "+8613700137000: LISTED (tenant acme)\n"
    assert "not listed anywhere" in dg("dnc", "check", "13600136000", expect=0).stdout


def test_dnc_import_of_csv_without_number_column_fails_whole(dg: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phone\nwang,13700137000\n")
    result = dg("dnc", "import", str(bad), expect=2)
    assert "number" in result.stderr and str(bad) in result.stderr


def test_consent_revocation_takes_effect(dg: Run) -> None:
    seeded(dg)
    check_json(dg, "--at", WEDNESDAY_10, expect=0)
    dg(
        "consent",
        "revoke",
        "13800138000",
        "--tenant",
        "acme",
        "--purpose",
        "callback",
        DIALGUARD_NOW="2026-11-20T00:00:00+08:00",
    )
    denied = check_json(dg, "--at", WEDNESDAY_10, expect=1)
    assert [r["code"] for r in denied["reasons"]] == ["consent.missing"]
    assert "revoked" in denied["reasons"][0]["message"]  # type: ignore[index]


def test_consent_expiry_boundary(dg: Run) -> None:
    dg("numbers", "add", CALLER, "--tenant", "acme")
    dg(
        "consent",
        "add",
        CALLEE,
        "--tenant",
        "acme",
        "--purpose",
        "callback",
        "--evidence",
        "ivr-7",
        "--given",
        "2026-11-01T00:00:00+08:00",
        "--expires",
        "2026-11-25T10:00:00+08:00",
    )
    check_json(dg, "--at", "2026-11-25T09:59:59+08:00", expect=0)
    expired = check_json(dg, "--at", WEDNESDAY_10, expect=1)
    assert expired["reasons"][0]["message"] == "consent for callback has expired"  # type: ignore[index]

"""The evidence CLI end to end: audit verify/tail/checkpoint, data-subject requests, tokens."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from builders import CALLEE, Run, check_json, seeded
from builders import WEDNESDAY_10_TEXT as WEDNESDAY_10

pytestmark = pytest.mark.verification_child  # verification behind the CLI: its child process

DIGITS = "13800138000"


def test_verify_passes_then_names_the_tampered_entry(dg: Run, tmp_path: Path) -> None:
    seeded(dg)
    dg("dnc", "add", CALLEE, "--reason", "stop")
    written = dg("audit", "checkpoint").stdout
    assert "checkpoint of" in written
    assert "OK:" in dg("audit", "verify").stdout
    tail = json.loads(dg("audit", "tail", "-n", "2", "--json").stdout)
    assert [e["action"] for e in tail] == ["consent.add", "dnc.add"]
    assert tail[1]["subject"].startswith("n:") and DIGITS not in json.dumps(tail)

    with closing(sqlite3.connect(tmp_path / "dg.db")) as db, db:
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    # Verified up to the checkpoint already: by default only what came after is re-read, and
    # it says so; a full verification re-reads everything.
    incremental = dg("audit", "verify")
    assert "OK:" in incremental.stdout and "are not re-read" in incremental.stderr
    result = dg("audit", "verify", "--full", expect=1)
    assert "BAD  entry 2: contents do not match its hash (modified)" in result.stdout

    public = tmp_path / "public.pem"
    public.write_text(dg("audit", "public-key").stdout)
    result = dg("audit", "verify", "--full", "--public-key", str(public), "--json", expect=1)
    assert json.loads(result.stdout)["problems"][0]["seq"] == 2


def test_rows_written_through_the_cli_are_vouched_for(dg: Run, tmp_path: Path) -> None:
    seeded(dg)
    dg("consent", "revoke", CALLEE, "--tenant", "acme")
    dg("dnc", "add", CALLEE, "--reason", "stop")
    dg("dnc", "remove", CALLEE, "--reason", "added by mistake")
    (tmp_path / "list.txt").write_text("13900139000\n13900139001\n")
    dg("dnc", "import", str(tmp_path / "list.txt"), "--tenant", "acme")
    dg("audit", "checkpoint")
    verified = dg("audit", "verify").stdout
    assert "OK:" in verified and "5 rows" in verified  # number, consent, 3 DNC entries
    assert "read from 1" in verified
    assert "read from" in dg("audit", "verify").stdout  # incremental: nothing new

    with closing(sqlite3.connect(tmp_path / "dg.db")) as db, db:
        db.execute("UPDATE consents SET evidence_ref = 'forged'")
        db.execute("DELETE FROM dnc_entries WHERE number = '+8613900139001'")
        (imported,) = db.execute("SELECT max(id) + 1 FROM dnc_entries").fetchone()
    result = dg("audit", "verify", "--full", expect=1)
    assert "BAD  row consents/1: not what entry" in result.stdout
    assert f"BAD  row dnc_entries/{imported}: entry " in result.stdout
    assert "(deleted)" in result.stdout and DIGITS not in result.stdout


def test_erasure_keeps_the_opt_out_and_removes_the_number(dg: Run, tmp_path: Path) -> None:
    seeded(dg)
    dg("dnc", "add", CALLEE, "--reason", "asked not to be called", "--source", "callee")
    dg("dsr", "correct", CALLEE, "--minor")
    report = dg("dsr", "erase", CALLEE, "--yes").stdout
    assert "completed: erased" in report

    assert "LISTED" in dg("dnc", "check", CALLEE, expect=1).stdout
    decision = check_json(dg, "--at", WEDNESDAY_10, expect=1)
    assert "callee.dnc" in [r["code"] for r in decision["reasons"]]  # type: ignore[index]
    with closing(sqlite3.connect(tmp_path / "dg.db")) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
            for row in db.execute(f"SELECT * FROM {table}"):
                if dict(zip(columns, row, strict=True)).get("restricted"):
                    continue
                assert DIGITS not in str(row), (table, row)

    requests = dg("dsr", "list").stdout
    assert "correct" in requests and "erase" in requests and DIGITS not in requests


def test_requests_are_registered_and_handled_by_id(dg: Run, tmp_path: Path) -> None:
    seeded(dg)
    received = dg("dsr", "receive", "export", CALLEE).stdout
    request_id = received.split()[1].lstrip("#")
    assert "export" in dg("dsr", "list", "--open").stdout
    out = tmp_path / "export.json"
    dg("dsr", "export", CALLEE, "--out", str(out), "--request", request_id)
    data = json.loads(out.read_text())
    assert data["subject"] == CALLEE and len(data["consents"]) == 1
    assert dg("dsr", "list", "--open").stdout == ""
    failed = dg("dsr", "export", CALLEE, "--out", str(out), "--request", request_id, expect=2)
    assert "already completed" in failed.stderr


def test_tokens_are_created_listed_and_revoked(dg: Run) -> None:
    created = dg("tokens", "create", "--role", "auditor", "--name", "ci")
    secret = created.stdout.strip()
    assert secret.startswith("dgt_") and "shown only now" in created.stderr
    listed = json.loads(dg("tokens", "list", "--json").stdout)
    assert [(t["role"], t["name"], t["revoked_at"]) for t in listed] == [("auditor", "ci", None)]
    assert secret not in dg("tokens", "list").stdout
    dg("tokens", "revoke", listed[0]["id"])
    assert "revoked" in dg("tokens", "list").stdout
    assert "no API token" in dg("tokens", "revoke", "nope", expect=2).stderr
    actions = [e["action"] for e in json.loads(dg("audit", "tail", "--json").stdout)]
    assert actions[-2:] == ["tokens.create", "tokens.revoke"]

"""Reviewing decisions as an administrator does: a test call placed through the running gate
with ``dialguard simulate`` (no PBX), then ``decisions list`` filtered, aligned, as CSV, and
``decisions show`` / ``policy show --decision`` / ``GET /v1/decisions/{id}`` by an id prefix."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from builders import CALLEE, WEDNESDAY_10, gate_settings
from builders import GATE_CALLER as CALLER
from click.testing import CliRunner, Result

from dialguard.app import GateApp
from dialguard.cli.main import cli
from dialguard.clock import Clock
from dialguard.ops.audited import Invalid
from dialguard.policy.model import CallAttempt, Decision, Verdict
from dialguard.storage.store import Store


@pytest.fixture
async def gate(tmp_path: Path, acme_store: Store) -> AsyncIterator[GateApp]:
    app = GateApp(gate_settings(tmp_path), Clock(WEDNESDAY_10))
    await app.start()
    yield app
    await app.stop()


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "dialguard.toml").write_text('[numbers]\ndefault_region = "CN"\n')
    return {
        "DIALGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/dg.db",
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_DSR_HASH_KEY_FILE": str(tmp_path / "subject-hash.key"),
    }


async def _cli(tmp_path: Path, *args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=_env(tmp_path))


async def test_simulate_places_a_call_and_prints_what_the_pbx_is_told(
    gate: GateApp, tmp_path: Path
) -> None:
    assert gate.agi is not None
    port = str(gate.agi.port)
    call = ("simulate", "--caller", "01088886666", "--callee", CALLEE, "--port", port)
    allowed = await _cli(tmp_path, *call, "--tenant", "acme")
    assert allowed.exit_code == 0, allowed.output
    assert "  DIALGUARD_VERDICT=ALLOW\n" in allowed.output
    assert "  > EXEC " in allowed.output and 'DIALGUARD_VERDICT=ALLOW"\n' in allowed.output
    denied = await _cli(tmp_path, *call, "--tenant", "acme", "--purpose", "marketing")
    assert "  DIALGUARD_VERDICT=DENY\n" in denied.output
    assert "purpose.not_filed" in denied.output

    table = await _cli(tmp_path, "decisions", "list")
    lines = table.output.splitlines()
    assert lines[0].split() == [
        "DECIDED", "VERDICT", "CALLER", "CALLEE", "TENANT/PURPOSE", "REASONS", "ID",
    ]  # fmt: skip
    assert len(lines) == 3
    for column in ("CALLEE", "REASONS", "ID"):  # aligned: each value starts under its header
        start = lines[0].index(f"  {column}") + 2
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines[1:])
    assert "2026-11-25 10:00:00+08:00" in lines[1]  # local time, with its offset
    only_denied = await _cli(tmp_path, "decisions", "list", "--verdict", "deny", "--csv")
    rows = list(csv.DictReader(io.StringIO(only_denied.output)))
    assert [(r["verdict"], r["tenant"], r["purpose"]) for r in rows] == [
        ("deny", "acme", "marketing")
    ]
    assert rows[0]["caller"] == CALLER and rows[0]["decided_at"] == "2026-11-25T10:00:00+08:00"
    by_reason = await _cli(tmp_path, "decisions", "list", "--reason", "purpose.not_filed", "--json")
    assert by_reason.output.count('"decision_id"') == 1
    none = await _cli(tmp_path, "decisions", "list", "--tenant", "acme", "--until",
                      "2026-11-25T09:59:59")  # fmt: skip
    assert none.output == "no decisions\n"


def _decision(decision_id: str, tenant: str, verdict: Verdict) -> Decision:
    attempt = CallAttempt(CALLER, CALLEE, tenant)
    return Decision(decision_id, verdict, (), "cn-test", WEDNESDAY_10, attempt, CALLER, CALLEE)


async def test_a_decision_id_prefix_is_accepted_and_an_ambiguous_one_named(
    acme_store: Store, tmp_path: Path
) -> None:
    ids = [
        "abcd1111-0000-4000-8000-000000000001",
        "abcd2222-0000-4000-8000-000000000002",
        "ef012345-0000-4000-8000-000000000003",
    ]
    async with acme_store.transaction() as tx:
        await tx.decisions.add_many(
            [replace(_decision(i, "acme", Verdict.ALLOW), decided_at=WEDNESDAY_10) for i in ids]
        )
    shown = await _cli(tmp_path, "decisions", "show", "ef01")
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"{ids[2]}  ALLOW\n")
    ambiguous = await _cli(tmp_path, "decisions", "show", "abcd")
    assert isinstance(ambiguous.exception, Invalid)
    assert str(ambiguous.exception) == (
        f"decision: 'abcd' is the start of several decision ids: {ids[0]}, {ids[1]}"
    )
    explained = await _cli(tmp_path, "policy", "show", "--decision", "abcd2")
    assert explained.exit_code == 0, explained.output
    missing = await _cli(tmp_path, "decisions", "show", "9999")
    assert missing.exit_code == 2 and "no decision '9999'" in missing.output


async def test_every_door_shows_the_decisions_recording_notice(
    acme_store: Store, tmp_path: Path
) -> None:
    played_id, required_id, none_id = (
        f"{n}0000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3)
    )
    async with acme_store.transaction() as tx:
        await tx.decisions.add_many(
            [
                replace(
                    _decision(played_id, "acme", Verdict.ALLOW),
                    record=True,
                    notice=True,
                    notice_played=True,
                    notice_prompt="custom/notice",
                ),
                replace(_decision(required_id, "acme", Verdict.ALLOW), record=True, notice=True),
                _decision(none_id, "acme", Verdict.ALLOW),
            ]
        )
    shown = await _cli(tmp_path, "decisions", "show", played_id)
    assert "\n  notice    played (custom/notice)\n" in shown.output
    assert "notice" not in (await _cli(tmp_path, "decisions", "show", none_id)).output
    as_json = json.loads((await _cli(tmp_path, "decisions", "show", required_id, "--json")).output)
    assert (as_json["notice"], as_json["notice_prompt"]) == ("required", None)
    listed = await _cli(tmp_path, "decisions", "list", "--csv")
    by_id = {r["decision_id"]: r["notice"] for r in csv.DictReader(io.StringIO(listed.output))}
    assert by_id == {played_id: "played", required_id: "required", none_id: ""}
    explained = await _cli(tmp_path, "policy", "show", "--decision", played_id)
    assert "  the decision's recording notice: played (custom/notice)\n" in explained.output
    explained_json = await _cli(tmp_path, "policy", "show", "--decision", played_id, "--json")
    assert json.loads(explained_json.output)["notice"] == "played"

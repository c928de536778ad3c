"""``dialguard scripts`` and ``dialguard policy show`` end to end (in-process, fresh SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from builders import CALLEE, Run, seeded
from builders import CLI_CALLER as CALLER
from builders import WEDNESDAY_10_TEXT as WEDNESDAY_10

CLEAN = "您好，这里是某银行客服。\n本产品为浮动收益型，过往业绩不代表未来表现。\n"
BANNED = "您好，这里是某银行客服。\n本产品１００％ 保 本，无-风-险！\n"


def check(dg: Run, *extra: str, expect: int) -> list[str]:
    result = dg(
        "check",
        "--caller",
        CALLER,
        "--callee",
        CALLEE,
        "--tenant",
        "acme",
        "--at",
        WEDNESDAY_10,
        "--json",
        *extra,
        expect=expect,
    )
    return [r["code"] for r in json.loads(result.stdout)["reasons"]]


def test_a_script_with_banned_phrases_is_refused_with_every_hit(dg: Run, tmp_path: Path) -> None:
    seeded(dg)
    dg("tenants", "add", "acme", "--industry", "finance")
    script = tmp_path / "spring.txt"
    script.write_text(BANNED, encoding="utf-8")
    refused = dg(
        "scripts", "add", str(script), "--campaign", "spring", "--tenant", "acme", expect=1
    )
    lines = refused.stdout.splitlines()
    assert f"{script}:2:4: 100%保本 (finance)" in lines
    assert f"{script}:2:9: 保本 (finance)" not in lines  # inside 100%保本: printed once
    assert f"{script}:2:13: 无风险 (finance)" in lines
    assert "REFUSED" in lines[-1]
    # Nothing approved: the campaign's calls are denied.
    assert check(dg, "--campaign", "spring", expect=1) == ["script.unapproved"]
    # The refusal is kept as evidence, with its hits.
    (listed,) = json.loads(dg("scripts", "list", "--json").stdout)
    assert listed["status"] == "refused" and len(listed["hits"]) == 3  # every hit kept
    assert listed["phrase_packs"] == ["finance"] and "text" not in listed

    script.write_text(CLEAN, encoding="utf-8")
    approved = dg("scripts", "add", str(script), "--campaign", "spring", "--tenant", "acme")
    assert "APPROVED" in approved.stdout
    assert check(dg, "--campaign", "spring", expect=0) == []
    assert check(dg, "--campaign", "autumn", expect=1) == ["script.unapproved"]
    shown = dg("scripts", "show", "2").stdout
    assert "status: approved" in shown and CLEAN.splitlines()[1] in shown
    assert [s["status"] for s in json.loads(dg("scripts", "list", "--json").stdout)] == [
        "refused",
        "approved",
    ]


def test_scripts_need_a_known_tenant(dg: Run, tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text(CLEAN, encoding="utf-8")
    result = dg("scripts", "add", str(script), "--campaign", "c", "--tenant", "nobody", expect=2)
    assert "nobody" in result.stderr


def test_policy_show_names_the_layer_of_every_parameter(dg: Run) -> None:
    dg("tenants", "add", "acme", "--industry", "finance")
    view = json.loads(
        dg("policy", "show", "--tenant", "acme", "--callee", "13800138000", "--json").stdout
    )
    assert view["policy_version"] == "cn-2026.1+cn-finance-2026.1"
    assert [layer["name"] for layer in view["layers"]] == ["cn", "cn-finance"]
    sources = {p["key"]: p["source"] for p in view["parameters"]}
    assert sources["recording.retention_class"] == "cn-finance 2026.1 (cn-finance.toml)"
    assert sources["quiet_hours.start"] == "cn 2026.1 (cn.toml)"
    text = dg("policy", "show", "--industry", "general", "--callee", "+1 305 555 0123").stdout
    assert text.startswith("policy us-2026.1/FL")
    assert "quiet_hours.start" in text and '"20:00"  [us 2026.1 (us.toml) subdivisions.FL]' in text


def test_dnc_import_reads_the_registry_flat_file(dg: Run, tmp_path: Path) -> None:
    listing = tmp_path / "national.txt"
    listing.write_text("201,2000000\r\n305,5550123\r\n30,55\r\n")
    result = dg("dnc", "import", str(listing), expect=1)
    assert "imported 2 new, 0 already listed, 1 bad lines" in result.stdout
    assert f"{listing}:3:" in result.stderr
    dg("dnc", "check", "+1 305 555 0123", expect=1)

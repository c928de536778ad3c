"""``dialguard report quarterly`` / ``report verify`` on a store seeded through the audited
operations with real decisions: figures match the store, the files are signed and the act is
audited, a changed byte fails verification, the PDF's first page has the Chinese title."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devkit.console_seed import seed, write_config
from devkit.gate import dialguard_executable

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import asyncio

    directory = tmp_path_factory.mktemp("report")
    config = write_config(directory)
    asyncio.run(seed(config, calls=60, now=NOW))
    dg(config, "audit", "checkpoint", now="2026-12-31T12:00:00+08:00")  # before the quarter ends
    yield config


def dg(
    config: Path,
    *args: str,
    expect: int = 0,
    now: str = "2027-01-02T10:00:00+08:00",
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALGUARD_")}
    env["DIALGUARD_NOW"] = now
    done = subprocess.run(
        [dialguard_executable(), "--config", str(config), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == expect, done.stderr + done.stdout
    return done


def stored_count(config: Path, tenant: str) -> int:
    with closing(sqlite3.connect(config.parent / "dg.db")) as db:
        (n,) = db.execute(
            "SELECT count(*) FROM decisions WHERE tenant = ? AND decided_at >= '2026-09-30 16'"
            " AND decided_at < '2026-12-31 16'",
            (tenant,),
        ).fetchone()
    return int(n)


def test_html_report_matches_the_store_and_is_signed(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "q4.html"
    dg(seeded, "report", "quarterly", "--tenant", "acme", "--quarter", "2026Q4", "--html",
       str(out), "--lang", "en")  # fmt: skip
    html = out.read_text(encoding="utf-8")
    assert f'id="decided">{stored_count(seeded, "acme")}<' in html
    assert "No calls 21:00–09:00" in html  # each figure names its rule
    assert 'id="filings-late">0<' in html  # the seed reports its filing changes in time
    assert 'class="ok">Verification passed' in html.replace('id="verification" ', "")
    root = json.loads((seeded.parent / "audit-checkpoints.jsonl").read_text().splitlines()[-1])
    assert f'id="merkle-root">{root["root_hash"]}<' in html
    ok = dg(seeded, "report", "verify", str(out), str(out) + ".sig")
    assert ok.stdout.startswith("OK ")

    changed = tmp_path / "changed.html"
    changed.write_bytes(out.read_bytes().replace(b"acme", b"acmf", 1))
    bad = dg(seeded, "report", "verify", str(changed), str(out) + ".sig", expect=1)
    assert "does not match its signature" in bad.stderr

    with closing(sqlite3.connect(seeded.parent / "dg.db")) as db:
        (detail,) = db.execute(
            "SELECT detail FROM audit_log WHERE action = 'report.quarterly' ORDER BY seq DESC"
        ).fetchone()
    files = json.loads(detail)["files"]
    assert files == {"dialguard-quarterly-acme-2026Q4-en.html": hashlib.sha256(
        out.read_bytes()).hexdigest()}  # fmt: skip


def test_pdf_in_chinese_has_its_title_on_page_one(seeded: Path, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "poppler-utils is required"
    pdf = tmp_path / "q4.pdf"
    dg(seeded, "report", "quarterly", "--tenant", "beta", "--quarter", "2026Q4", "--pdf",
       str(pdf))  # fmt: skip
    assert pdf.read_bytes().startswith(b"%PDF")
    dg(seeded, "report", "verify", str(pdf), str(pdf) + ".sig")
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    page = next(tmp_path.glob("p*.png"))
    assert page.stat().st_size > 10_000  # a rendered page, not a blank one
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "季度合规自查报告" in text and "beta" in text and "对应规则" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--quarter", "2026Q5", "--html", "x.html"), "--quarter: expected YEARQn"),
        (("--quarter", "2026Q4", "--html", "x.html", "--tenant", "nobody"), "no tenant named"),
        (("--quarter", "2026Q4"), "give --html FILE and/or --pdf FILE"),
    ],
)
def test_bad_input_is_refused_naming_it(
    seeded: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    base = ["report", "quarterly"] + ([] if "--tenant" in args else ["--tenant", "acme"])
    result = dg(seeded, *base, *args, expect=2, cwd=tmp_path)
    assert message in result.stderr
    assert not (tmp_path / "x.html").exists()

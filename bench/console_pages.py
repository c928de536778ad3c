"""Console page load times with a million stored decisions.

    .venv/bin/python bench/console_pages.py [--rows 1000000] [--keep DIR]

Creates a fresh SQLite store (migrations applied), inserts ``--rows`` decisions with plain SQL
in one transaction (90 days, 3 tenants, realistic verdict/reason mix; no audit entries — this
measures reads), starts the gate in-process with its API, signs in to the console with an
auditor token and times each page (server time to the full HTML, median and worst of 5 after
one warm-up): the overview for one tenant over 7 and 90 days and for all tenants over 7 days,
the decisions list (first page, filtered by verdict+reason, by exact callee, and 100 pages deep
by cursor), a decision's page, obligations. Prints a table (milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialguard.app import GateApp
from dialguard.audit.checkpoint import SigningKey
from dialguard.clock import Clock, parse_instant
from dialguard.config import Settings, load_settings
from dialguard.ops.audited import Actor
from dialguard.ops.tokens import create_token
from dialguard.storage.migrate import init_database
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role

NOW = parse_instant("2026-11-25T10:00:00+08:00")
TENANTS = ("acme", "beta", "gamma")
REASONS = [
    (None, 55),
    ("callerid.unregistered", 12),
    ("time.quiet_hours", 10),
    ("callee.dnc", 8),
    ("consent.missing", 7),
    ("frequency.exceeded", 5),
    ("gate.timeout", 2),
    ("script.unapproved", 1),
]


def settings_for(directory: Path, *, create_keys: bool = True) -> Settings:
    if create_keys:
        SubjectKey.create(directory / "subject.key")
        SigningKey.create(directory / "audit-signing.key")
    return load_settings(
        environ={},
        cli={
            "database": {"url": f"sqlite+aiosqlite:///{directory}/dg.db"},
            "agi": {"enabled": "false"},
            "api": {"port": "0"},
            "esl": {"enabled": "false"},
            "recording": {"enabled": "false"},
            "audit": {
                "checkpoint_interval_s": "0",
                "signing_key_file": str(directory / "audit-signing.key"),
                "checkpoint_file": str(directory / "audit-checkpoints.jsonl"),
            },
            "dsr": {"hash_key_file": str(directory / "subject.key")},
        },
    )


def insert_decisions(db: Path, rows: int) -> float:
    """Plain SQL, one transaction; returns the seconds it took."""
    rng = random.Random(1)
    codes = [code for code, _ in REASONS]
    weights = [w for _, w in REASONS]
    start = NOW.astimezone(UTC).replace(tzinfo=None) - timedelta(days=90)
    span = 90 * 24 * 3600
    started = time.perf_counter()
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        for tenant in TENANTS:
            conn.execute(
                "INSERT OR IGNORE INTO tenants (name, industry, created_at) VALUES (?, ?, ?)",
                (tenant, "general", "2026-01-01 00:00:00.000000"),
            )

        def generate() -> object:
            for i in range(rows):
                at = start + timedelta(seconds=span * i / rows + rng.random())
                code = rng.choices(codes, weights)[0]
                verdict = "allow" if code is None else "deny"
                callee = f"+86138{rng.randrange(10**8):08d}"
                caller = f"+8610{rng.randrange(100):08d}"
                reasons = [] if code is None else [{"code": code, "message": "bench"}]
                yield (
                    str(uuid.UUID(int=rng.getrandbits(128))),
                    f"b-{i}",
                    "outbound",
                    "allowed",
                    caller[3:],
                    caller,
                    callee[3:],
                    callee,
                    rng.choice(TENANTS),
                    "callback",
                    rng.choice(("spring", "win-back", None)),
                    at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    verdict,
                    json.dumps(reasons),
                    code,
                    "ref-1" if verdict == "allow" else None,
                    "cn-2026.1",
                    rng.uniform(0.3, 4.0),
                    verdict == "allow",
                    "default",
                    (at + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    False,
                    "00" * 16,
                )

        # Bulk load: drop the secondary indexes, insert in time order, build them again once.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions'"
            " AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(
            "INSERT INTO decisions (decision_id, call_id, direction, presentation, caller_raw, "
            "caller_e164, callee_raw, callee_e164, tenant, purpose, campaign, decided_at, "
            "verdict, reasons, first_reason, consent_ref, policy_version, latency_ms, record, "
            "retention_class, retain_until, restricted, evidence_salt) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            generate(),  # type: ignore[arg-type]
        )
        for _, sql in indexes:
            conn.execute(sql)
        conn.commit()
        conn.execute("ANALYZE")
    return time.perf_counter() - started


async def time_pages(settings: Settings) -> list[tuple[str, float, float, int]]:
    app = GateApp(settings, Clock(NOW))
    await app.start()
    try:
        assert app.api is not None and app.store is not None
        _, secret = await create_token(app.store, Actor("bench", NOW), Role.AUDITOR, "bench")
        base = f"http://127.0.0.1:{app.api.port}"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            form = {"token": secret, "next": "/console/"}
            async with session.post(f"{base}/console/login", data=form) as response:
                assert response.status == 200
            html = await fetch(session, f"{base}/console/decisions?to=2026-11-25&from=2026-08-28")
            decision = re.findall(r'href="/console/decisions/([0-9a-f-]{36})"', html)[0]
            callee = re.search(r"\+86138\d{8}", html)
            deep = f"{base}/console/decisions?from=2026-08-28&to=2026-11-25"
            for _ in range(100):  # follow the cursor 100 pages deep
                page = await fetch(session, deep)
                more = re.search(r'id="older" href="([^"]+)"', page)
                assert more is not None
                deep = base + more[1].replace("&amp;", "&")
            pages = {
                "overview, 1 tenant, 7 days": "/console/?tenant=acme",
                "overview, 1 tenant, 90 days": "/console/?tenant=acme&from=2026-08-28",
                "overview, all tenants, 7 days": "/console/",
                "decisions, first page": "/console/decisions",
                "decisions, deny + reason, 90 days": "/console/decisions?verdict=deny"
                "&reason=callee.dnc&from=2026-08-28",
                "decisions, exact callee, 90 days": "/console/decisions?from=2026-08-28"
                f"&callee={callee[0] if callee else ''}",
                "decisions, page 101 (cursor)": deep[len(base) :],
                "decision page": f"/console/decisions/{decision}",
                "obligations": "/console/obligations",
            }
            results = []
            for name, path in pages.items():
                await fetch(session, base + path)  # warm-up
                samples = []
                for _ in range(5):
                    started = time.perf_counter()
                    body = await fetch(session, base + path)
                    samples.append((time.perf_counter() - started) * 1000)
                results.append((name, statistics.median(samples), max(samples), len(body)))
            return results
    finally:
        await app.stop()


async def fetch(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        assert response.status == 200, (url, response.status)
        return await response.text()


async def main_async(rows: int, directory: Path) -> None:
    reuse = (directory / "dg.db").exists()
    settings = settings_for(directory, create_keys=not reuse)
    await init_database(settings)
    if reuse:
        print(f"reusing the store in {directory}")
    else:
        seconds = insert_decisions(directory / "dg.db", rows)
        print(f"inserted {rows:,} decisions with plain SQL in {seconds:.1f} s")
    print(f"{'page':40} {'median ms':>10} {'worst ms':>10} {'bytes':>9}")
    for name, median, worst, size in await time_pages(settings):
        print(f"{name:40} {median:10.1f} {worst:10.1f} {size:9,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--keep", type=Path, help="Build the store here and keep it (reused if it exists)."
    )
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(main_async(args.rows, args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="dg-console-bench-") as tmp:
        asyncio.run(main_async(args.rows, Path(tmp)))


if __name__ == "__main__":
    main()

"""Console page load times with a million stored decisions, on SQLite and PostgreSQL.

    .venv/bin/python bench/console_pages.py [--rows 1000000] [--backend sqlite|postgresql|both]
        [--pg-url URL] [--keep DIR]

For each backend: an empty store migrated to ``i20`` (the revision before the hourly roll-up),
``--rows`` decisions bulk-loaded (90 days, 3 tenants, a realistic verdict/reason mix; no audit
entries — this measures reads; SQLite: ``executemany`` with the secondary indexes built after;
PostgreSQL: ``COPY``, then ``VACUUM ANALYZE``), then ``dialguard init``'s upgrade to head, whose
backfill of ``decision_hours`` is timed. Then, on that same database:

- the overview's queries as they were (counts, latency and top lists from the decision rows over
  the whole range) against the overview's queries now (counts per day from the roll-up, the rest
  over the range's last 7 days), one tenant over 90 days and all tenants over 7 days;
- the gate started in-process with its API, signed in to the console with an auditor token, each
  page timed from request to full HTML: the overview (one tenant 7 and 90 days, all tenants 7
  days), the decisions list (first page; deny + reason, exact callee, caller, campaign, a caller
  and a reason with no decision, over 90 days; 100 pages deep by cursor), a decision's page,
  obligations.

Each figure is the median and the worst of 5 after one warm-up, in milliseconds. PostgreSQL runs
in a fresh database created beside ``--pg-url`` (default ``$DIALGUARD_TEST_PG_URL``; a role that
may create databases) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from alembic import command
from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialguard.app import GateApp
from dialguard.audit.checkpoint import SigningKey
from dialguard.clock import Clock, parse_instant
from dialguard.config import Settings, load_settings
from dialguard.console.pages import recent
from dialguard.ops.audited import Actor
from dialguard.ops.tokens import create_token
from dialguard.storage.connection import create_engine
from dialguard.storage.console import ConsoleQueries, DecisionFilter
from dialguard.storage.migrate import alembic_config, init_database
from dialguard.storage.schema import decisions as t
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role

NOW = parse_instant("2026-11-25T10:00:00+08:00")
DAY_90 = "2026-08-28"
TENANTS = ("acme", "beta", "gamma")
BEFORE_ROLL_UP = "i20"
BEIJING_OFFSET = timedelta(hours=8)
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
COLUMNS = [
    "decision_id",
    "call_id",
    "direction",
    "presentation",
    "caller_raw",
    "caller_e164",
    "callee_raw",
    "callee_e164",
    "tenant",
    "purpose",
    "campaign",
    "decided_at",
    "verdict",
    "reasons",
    "first_reason",
    "consent_ref",
    "policy_version",
    "latency_ms",
    "record",
    "retention_class",
    "retain_until",
    "restricted",
    "evidence_salt",
]
Row = tuple[Any, ...]
Timing = tuple[str, float, float]


def generate(rows: int) -> Iterator[Row]:
    """The decisions, oldest first, as tuples in :data:`COLUMNS` order (aware UTC times)."""
    rng = random.Random(1)
    codes = [code for code, _ in REASONS]
    weights = [w for _, w in REASONS]
    start = NOW.astimezone(UTC) - timedelta(days=90)
    span = 90 * 24 * 3600
    for i in range(rows):
        at = start + timedelta(seconds=span * i / rows + rng.random())
        code = rng.choices(codes, weights)[0]
        verdict = "allow" if code is None else "deny"
        callee = f"+86138{rng.randrange(10**8):08d}"
        caller = f"+8610{rng.randrange(100):08d}"
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
            at,
            verdict,
            json.dumps([] if code is None else [{"code": code, "message": "bench"}]),
            code,
            "ref-1" if verdict == "allow" else None,
            "cn-2026.1",
            rng.uniform(0.3, 4.0),
            verdict == "allow",
            "default",
            at + timedelta(days=30),
            False,
            "00" * 16,
        )


def sqlite_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(db: Path, rows: int) -> None:
    """One transaction; the secondary indexes dropped first and built once at the end."""
    at, until = COLUMNS.index("decided_at"), COLUMNS.index("retain_until")

    def as_text(row: Row) -> Row:
        values = list(row)
        values[at], values[until] = sqlite_text(row[at]), sqlite_text(row[until])
        return tuple(values)

    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executemany(
            "INSERT INTO tenants (name, industry, created_at) VALUES (?, 'general', ?)",
            [(name, "2026-01-01 00:00:00.000000") for name in TENANTS],
        )
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions'"
            " AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        marks = ", ".join("?" * len(COLUMNS))
        conn.executemany(
            f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES ({marks})",
            (as_text(row) for row in generate(rows)),
        )
        for _, sql in indexes:
            conn.execute(sql)
        conn.commit()
        conn.execute("ANALYZE")


def asyncpg_dsn(url: str) -> str:
    parsed = make_url(url)
    query = dict(parsed.query)  # asyncpg reads libpq's name for the TLS mode in a DSN
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


async def load_postgresql(url: str, rows: int) -> None:
    """``COPY`` with the secondary indexes dropped and built again after; ``VACUUM ANALYZE`` so
    index-only scans see an all-visible table, as autovacuum leaves a settled one."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.executemany(
            "INSERT INTO tenants (name, industry, created_at) VALUES ($1, 'general', $2)",
            [(name, datetime(2026, 1, 1, tzinfo=UTC)) for name in TENANTS],
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'decisions' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        await conn.copy_records_to_table("decisions", records=generate(rows), columns=COLUMNS)
        for index in indexes:
            await conn.execute(index["indexdef"])
        await conn.execute("VACUUM ANALYZE decisions")
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_pg_database(base_url: str) -> AsyncIterator[str]:
    name = f"dgbench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def settings_for(directory: Path, url: str) -> Settings:
    if not (directory / "subject.key").exists():
        SubjectKey.create(directory / "subject.key")
        SigningKey.create(directory / "audit-signing.key")
    return load_settings(
        environ={},
        cli={
            "database": {"url": url},
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


async def migrate_to(settings: Settings, revision: str) -> None:
    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    engine = create_engine(settings.database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade)
    finally:
        await engine.dispose()


async def timed(run: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Median and worst of 5 runs after one warm-up, in milliseconds."""
    await run()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


async def overview_from_rows(conn: AsyncConnection, f: DecisionFilter) -> None:
    """The overview's four queries as they were before the roll-up: every row of the range."""
    queries = ConsoleQueries(conn)
    where = queries._where(f)
    if conn.dialect.name == "postgresql":
        hour = func.date_trunc("hour", func.timezone("UTC", t.c.decided_at))
    else:
        hour = func.substr(t.c.decided_at, 1, 13)
    counts = select(hour, t.c.verdict, t.c.first_reason, func.count()).where(where)
    await conn.execute(counts.group_by(hour, t.c.verdict, t.c.first_reason))
    bucket = func.round(t.c.latency_ms * 10)
    timeouts = func.sum(case((t.c.first_reason == "gate.timeout", 1), else_=0))
    health = select(bucket, func.count(), timeouts).where(where).group_by(bucket)
    await conn.execute(health)
    await queries.top(f, "caller_e164")
    await queries.top(f, "campaign")


async def overview_now(conn: AsyncConnection, f: DecisionFilter) -> None:
    """The overview's queries now, for a range charted per day in Beijing time."""
    queries = ConsoleQueries(conn)
    await queries.by_day(f, BEIJING_OFFSET)
    latest = recent(f)
    await queries.latency(latest)
    await queries.top(latest, "caller_e164")
    await queries.top(latest, "campaign")


async def time_queries(settings: Settings) -> list[Timing]:
    end = NOW.replace(hour=0) + timedelta(days=1)
    filters = {
        "1 tenant, 90 days": DecisionFilter(end - timedelta(days=90), end, tenant="acme"),
        "all tenants, 7 days": DecisionFilter(end - timedelta(days=7), end, among=TENANTS),
    }
    engine = create_engine(settings.database)
    results = []
    try:
        async with engine.connect() as conn:
            for name, f in filters.items():
                before = await timed(lambda f=f: overview_from_rows(conn, f))  # type: ignore[misc]
                now = await timed(lambda f=f: overview_now(conn, f))  # type: ignore[misc]
                results.append((f"overview queries, {name}: rows (before)", *before))
                results.append((f"overview queries, {name}: roll-up (now)", *now))
    finally:
        await engine.dispose()
    return results


async def time_pages(settings: Settings) -> list[Timing]:
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
            html = await fetch(session, f"{base}/console/decisions?to=2026-11-25&from={DAY_90}")
            decision = re.findall(r'href="/console/decisions/([0-9a-f-]{36})"', html)[0]
            callee = re.search(r"\+86138\d{8}", html)
            deep = f"{base}/console/decisions?from={DAY_90}&to=2026-11-25"
            for _ in range(100):  # follow the cursor 100 pages deep
                page = await fetch(session, deep)
                more = re.search(r'id="older" href="([^"]+)"', page)
                assert more is not None
                deep = base + more[1].replace("&amp;", "&")
            pages = {
                "page: overview, 1 tenant, 7 days": "/console/?tenant=acme",
                "page: overview, 1 tenant, 90 days": f"/console/?tenant=acme&from={DAY_90}",
                "page: overview, all tenants, 7 days": "/console/",
                "page: decisions, first page": "/console/decisions",
                "page: decisions, deny + reason, 90 days": "/console/decisions?verdict=deny"
                f"&reason=script.unapproved&from={DAY_90}",
                "page: decisions, exact callee, 90 days": f"/console/decisions?from={DAY_90}"
                f"&callee={callee[0] if callee else ''}",
                "page: decisions, caller, 90 days": f"/console/decisions?from={DAY_90}"
                "&caller=%2B861000000042",
                "page: decisions, campaign, 90 days": f"/console/decisions?from={DAY_90}"
                "&campaign=win-back&tenant=beta",
                "page: decisions, a caller without calls, 90 days": "/console/decisions"
                f"?from={DAY_90}&caller=%2B861099999999",
                "page: decisions, a reason never given, 90 days": "/console/decisions"
                f"?from={DAY_90}&reason=callee.minor",
                "page: decisions, page 101 (cursor)": deep[len(base) :],
                "page: decision": f"/console/decisions/{decision}",
                "page: obligations": "/console/obligations",
            }
            results = []
            for name, path in pages.items():
                url = base + path
                results.append((name, *await timed(lambda url=url: fetch(session, url))))  # type: ignore[misc]
            return results
    finally:
        await app.stop()


async def fetch(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        assert response.status == 200, (url, response.status)
        return await response.text()


async def run_backend(backend: str, rows: int, directory: Path, pg_url: str | None) -> None:
    print(f"\n== {backend}, {rows:,} decisions")
    if backend == "sqlite":
        db = directory / "dg.db"
        settings = settings_for(directory, f"sqlite+aiosqlite:///{db}")
        if db.exists():
            print("reusing the store")
        else:
            await migrate_to(settings, BEFORE_ROLL_UP)
            started = time.perf_counter()
            load_sqlite(db, rows)
            print(f"bulk-loaded in {time.perf_counter() - started:.1f} s")
        await measure(settings)
        return
    if not pg_url:
        raise SystemExit("postgresql: give --pg-url or set DIALGUARD_TEST_PG_URL")
    async with fresh_pg_database(pg_url) as url:
        settings = settings_for(directory, url)
        await migrate_to(settings, BEFORE_ROLL_UP)
        started = time.perf_counter()
        await load_postgresql(url, rows)
        print(f"bulk-loaded in {time.perf_counter() - started:.1f} s")
        await measure(settings)


async def measure(settings: Settings) -> None:
    started = time.perf_counter()
    await init_database(settings)
    print(f"upgraded to head (roll-up backfill) in {time.perf_counter() - started:.1f} s")
    print(f"{'':52} {'median ms':>10} {'worst ms':>10}")
    for name, median, worst in await time_queries(settings) + await time_pages(settings):
        print(f"{name:52} {median:10.1f} {worst:10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("DIALGUARD_TEST_PG_URL"))
    parser.add_argument(
        "--keep", type=Path, help="Build the SQLite store here and keep it (reused if it exists)."
    )
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="dg-console-bench-") as tmp:
        for backend in backends:
            directory = args.keep if args.keep and backend == "sqlite" else Path(tmp) / backend
            directory.mkdir(parents=True, exist_ok=True)
            asyncio.run(run_backend(backend, args.rows, directory, args.pg_url))


if __name__ == "__main__":
    main()

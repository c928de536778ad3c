"""A store with a week of decisions for the console (browser tests, screenshots, a look by hand).

    .venv/bin/python -m devkit.console_seed DIR

Creates ``DIR/dialguard.toml`` and a fresh SQLite store beside it, seeded through the audited
operations (tenants, numbers, consents, a DNC entry, a data-subject request, the audit signing
key) so ``audit verify`` passes, then real policy decisions (the gate's own ``dry_run`` at chosen
instants over the last seven days, stored through the decision log with their audit entries):
allowed calls, quiet-hours and unregistered-caller denials, missing consent, DNC. Prints JSON with
the config path and an admin and an auditor token. Start the console with
``dialguard --config DIR/dialguard.toml serve`` and sign in at ``http://127.0.0.1:PORT/console/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dialguard.app import book_from
from dialguard.clock import Clock
from dialguard.config import Settings, load_settings
from dialguard.gate.service import GateService
from dialguard.ops.audited import Actor
from dialguard.ops.consent import add_consent
from dialguard.ops.dnc import add_dnc
from dialguard.ops.dsr import receive
from dialguard.ops.keys import init_signing_key
from dialguard.ops.numbers import Filing, register_number
from dialguard.ops.tenants import add_tenant
from dialguard.ops.tokens import create_token
from dialguard.ops.vocabulary import Vocabulary
from dialguard.policy.model import CallAttempt
from dialguard.storage.decision_log import DecisionLog
from dialguard.storage.facts import fact_reader
from dialguard.storage.migrate import init_database
from dialguard.storage.store import Store
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Seeded:
    config: Path
    admin_token: str
    auditor_token: str
    decisions: int


def write_config(directory: Path, api_port: int = 8080, agi_port: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "dialguard.toml"
    config.write_text(
        f"""[database]
url = "sqlite+aiosqlite:///{directory}/dg.db"
[agi]
host = "127.0.0.1"
port = {agi_port}
[api]
host = "127.0.0.1"
port = {api_port}
[esl]
enabled = false
[recording]
enabled = false
[audit]
signing_key_file = "{directory}/audit-signing.key"
checkpoint_file = "{directory}/audit-checkpoints.jsonl"
[dsr]
hash_key_file = "{directory}/subject-hash.key"
""",
        encoding="utf-8",
    )
    return config


def settings_of(config: Path) -> Settings:
    return load_settings(config, environ={})


async def seed(config: Path, *, calls: int = 400, now: datetime | None = None) -> Seeded:
    settings = settings_of(config)
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    await init_database(settings)
    now = now or Clock().now()
    actor = Actor("seed", now - timedelta(days=8), "CN")
    book = book_from(settings)
    vocabulary = Vocabulary.of(book)
    store = await Store.open(settings)
    try:
        await init_signing_key(store, actor, Path(settings.audit.signing_key_file))
        await add_tenant(store, actor, "acme", "general")
        await add_tenant(store, actor, "beta", "general")
        for number, tenant in (("+861088886666", "acme"), ("+862161234567", "beta")):
            filing = Filing(number, tenant, purposes=("callback",))
            await register_number(store, actor, filing, book.numbering, vocabulary=vocabulary)
        for callee in ("+8613800138000", "+8613800138001", "+8613800138002"):
            for tenant in ("acme", "beta"):
                await add_consent(
                    store,
                    actor,
                    callee,
                    tenant=tenant,
                    purpose="callback",
                    evidence_ref=f"web-{callee[-3:]}",
                    vocabulary=vocabulary,
                )
        await add_dnc(store, actor, "+8613900139999", reason="asked not to be called")
        await receive(
            store,
            actor,
            "export",
            "+8613800138001",
            deadline_days=15,
            received=now - timedelta(days=3),
        )
        _, admin = await create_token(store, actor, Role.ADMIN, "admin")
        _, auditor = await create_token(store, actor, Role.AUDITOR, "auditor")
        made = await _decide(settings, store, now, calls)
    finally:
        await store.close()
    return Seeded(config, admin, auditor, made)


async def _decide(settings: Settings, store: Store, now: datetime, calls: int) -> int:
    book = book_from(settings)
    log = DecisionLog(store, region="CN")
    log.start()
    facts = fact_reader(store)
    gate = GateService(facts, book, Clock(), "CN", log)
    rng = random.Random(18)
    callers = [("01088886666", "acme"), ("02161234567", "beta"), ("01099990000", "acme")]
    callees = ["13800138000", "13800138001", "13800138002", "13700137000", "13900139999"]
    try:
        for i in range(calls):
            at = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
            caller, tenant = rng.choice(callers)
            attempt = CallAttempt(
                caller,
                rng.choice(callees),
                tenant=tenant,
                campaign=rng.choice(["spring-renewals", "win-back", None]),
                call_id=f"seed-{i}",
            )
            decision = await gate.dry_run(attempt, at=at)
            await log.append(decision)
    finally:
        await log.stop()
        facts.close()
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--api-port", type=int, default=8080)
    args = parser.parse_args()
    config = write_config(args.directory.resolve(), args.api_port)
    seeded = asyncio.run(seed(config, calls=args.calls))
    print(
        json.dumps(
            {
                "config": str(seeded.config),
                "admin_token": seeded.admin_token,
                "auditor_token": seeded.auditor_token,
                "decisions": seeded.decisions,
            }
        )
    )


if __name__ == "__main__":
    main()

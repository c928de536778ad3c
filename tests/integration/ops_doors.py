"""The two doors of :mod:`test_ops_contract`, each into a database of its own: the CLI
(click's ``CliRunner``, in-process), the admin API (aiohttp's test client), or an ops function
called directly; the steps that put the same things in place on both sides; and how the entries
each side appended are checked and made comparable.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from pg_databases import MigratedCopies

from dialguard.api import ApiContext, create_app
from dialguard.app import book_from
from dialguard.cli.main import cli
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.gate.service import GateService
from dialguard.ops import dsr, recordings
from dialguard.ops.audited import Actor
from dialguard.ops.recording_runtime import RecordingRuntime
from dialguard.ops.recording_testing import write_wav
from dialguard.ops.tokens import create_token
from dialguard.policy.book import load_pack
from dialguard.policy.model import (
    CallAttempt,
    Decision,
    DncEntry,
    DncScope,
    NumberType,
    RegisteredNumber,
    Verdict,
)
from dialguard.recording.ingest import Ingestor
from dialguard.recording.keys import create_keyring
from dialguard.recording.retention import RetentionPolicy
from dialguard.recording.vault import open_vault
from dialguard.settings.database import DatabaseSettings
from dialguard.settings.dsr import DsrSettings
from dialguard.settings.recording import RecordingSettings
from dialguard.storage import AuditEntry, Store
from dialguard.storage.facts import FactReader, fact_reader
from dialguard.storage.recording_records import CallSource, NewRecording, RetentionTerms
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role

NOW_TEXT = "2026-11-25T10:00:00+08:00"
NOW = datetime.fromisoformat(NOW_TEXT)
PERSON = "+8613900139032"
SPACED = "139 0013 9032"
DASHED = "+86-139-0013-9032"
OURS = "+861058001234"
TOKEN_ID = "0123456789abcdef"
UNIQUEID = "1764036000.7"
REGION = "CN"


@dataclass
class Side:
    """One database and its ways in: the CLI's environment, an API client (over ``gate``, which
    the side closes), the store."""

    base: Path
    store: Store
    settings: Settings
    env: dict[str, str]
    client: TestClient[Any, Any]
    admin: str
    gate: GateService
    facts: FactReader
    rec: RecordingSettings = field(init=False)

    def __post_init__(self) -> None:
        self.rec = RecordingSettings(
            spool_dir=str(self.base / "spool"),
            keyring_file=str(self.base / "keys.json"),
            regions=f"cn={self.base / 'vault-cn'}",
        )

    async def entries_after(self, seq: int) -> list[AuditEntry]:
        async with self.store.transaction(readonly=True) as tx:
            entries = await tx.audit.tail(1000)
        return [e for e in entries if e.seq > seq and e.action != "api.request"]

    async def last_seq(self) -> int:
        async with self.store.transaction(readonly=True) as tx:
            tail = await tx.audit.tail(1)
        return tail[-1].seq if tail else 0


Step = Callable[[Side], Awaitable[Any]]


async def _side(base: Path, url: str, subject_key: Path, copies: MigratedCopies) -> Side:
    await asyncio.to_thread(base.mkdir, parents=True)
    settings = replace(
        Settings(),
        database=DatabaseSettings(url=url),
        dsr=DsrSettings(hash_key_file=str(subject_key)),
    )
    await copies.migrate(settings)
    store = await Store.open(settings)
    facts = fact_reader(store)
    gate = GateService(
        facts, book_from(settings), Clock.from_env({"DIALGUARD_NOW": NOW_TEXT}), REGION
    )
    client = TestClient(TestServer(create_app(ApiContext.build(store, gate, settings))))
    await client.start_server()
    _, admin = await create_token(store, Actor("setup", NOW), Role.ADMIN, "contract")
    (base / "dialguard.toml").write_text('[numbers]\ndefault_region = "CN"\n')
    env = {
        "DIALGUARD_DATABASE_URL": url,
        "DIALGUARD_CONFIG": str(base / "dialguard.toml"),
        "DIALGUARD_ACTOR": "cli-contract",
        "DIALGUARD_NOW": NOW_TEXT,
        "DIALGUARD_DSR_HASH_KEY_FILE": str(subject_key),
        "DIALGUARD_AUDIT_SIGNING_KEY_FILE": str(base / "audit-signing.key"),
        "DIALGUARD_AUDIT_CHECKPOINT_FILE": str(base / "checkpoints.jsonl"),
        "DIALGUARD_RECORDING_KEYRING_FILE": str(base / "keys.json"),
        "DIALGUARD_RECORDING_REGIONS": f"cn={base / 'vault-cn'}",
    }
    side = Side(base, store, settings, env, client, admin, gate, facts)
    await _seed(side)
    return side


OUR_FILING = RegisteredNumber(
    OURS, "acme", frozenset({"callback"}), True, True, NumberType.CALL_CENTRE, None, None, True
)


async def _seed(side: Side) -> None:
    """The same on both sides: tenants (one in finance) and our access number."""
    async with side.store.transaction() as tx:
        await tx.tenants.ensure("acme", at=NOW)
        await tx.tenants.ensure("bank", "finance", at=NOW)
        await tx.numbers.add(OUR_FILING, at=NOW - timedelta(days=30))


@asynccontextmanager
async def open_sides(
    db_settings_pair: tuple[Settings, Settings], copies: MigratedCopies, tmp_path: Path
) -> AsyncIterator[tuple[Side, Side]]:
    """Two databases seeded alike (SQLite files, or two PostgreSQL databases): the ``sides``
    fixture."""
    subject_key = tmp_path / "subject.key"
    SubjectKey.create(subject_key)
    made: list[Side] = []
    try:
        for name, settings in zip(("left", "right"), db_settings_pair, strict=True):
            made.append(await _side(tmp_path / name, settings.database.url, subject_key, copies))
        yield made[0], made[1]
    finally:
        await _close(made)


async def _close(sides: Sequence[Side]) -> None:
    for side in sides:
        await side.client.close()
        side.facts.close()
        await side.store.close()


# The doors.


def cli_door(*args: str, stdin: str | None = None, frozen: bool = True) -> Step:
    """The command in-process; its exit status is not the point (``main`` turns a command's
    return value into one, ``CliRunner`` does not), that it ran without an error is."""

    async def run(side: Side) -> None:
        argv = [a.replace("{base}", str(side.base)) for a in args]
        env: dict[str, str | None] = {**side.env}
        if not frozen:
            env["DIALGUARD_NOW"] = None
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, argv, input=stdin, env=env, catch_exceptions=False
        )
        assert result.exit_code == 0, (argv, result.output)

    return run


def api_door(method: str, path: str, body: dict[str, Any], *, token: bool = True) -> Step:
    async def run(side: Side) -> None:
        headers = {"Authorization": f"Bearer {side.admin}"} if token else {}
        response = await side.client.request(method, path, json=body, headers=headers)
        assert 200 <= response.status < 300, (path, await response.text())

    return run


def ops_door(call: Callable[[Side, Actor], Awaitable[Any]]) -> Step:
    async def run(side: Side) -> None:
        await call(side, Actor("ops-contract", NOW, REGION))

    return run


# What the cases need in place, the same on both sides.


async def dnc_entry(side: Side) -> None:
    entry = DncEntry(PERSON, DncScope.TENANT, "acme", None, "callee", None, NOW, None, "seed")
    async with side.store.transaction() as tx:
        await tx.dnc.add(replace(entry, added_at=NOW - timedelta(days=2)))


async def consent(side: Side) -> None:
    async with side.store.transaction() as tx:
        await tx.consents.add(
            PERSON,
            "acme",
            "callback",
            evidence_ref="call with 139 0013 9032",
            channel="ivr",
            given_at=NOW - timedelta(days=3),
        )


def _decision(decision_id: str, days_ago: int, call_id: str | None = None) -> Decision:
    attempt = CallAttempt(OURS, PERSON, "acme", call_id=call_id)
    return Decision(
        decision_id,
        Verdict.ALLOW,
        (),
        "cn-test",
        NOW - timedelta(days=days_ago),
        attempt,
        OURS,
        PERSON,
        record=call_id is not None,
    )


async def history(side: Side) -> None:
    """What erasure finds: a consent, an opt-out, contact flags, two calls (one past 30 days)."""
    await consent(side)
    await dnc_entry(side)
    async with side.store.transaction() as tx:
        await tx.decisions.add_many(
            [
                _decision("00000000-0000-4000-8000-0000000000a1", 40),
                _decision("00000000-0000-4000-8000-0000000000a2", 1),
            ]
        )


async def recording(side: Side) -> None:
    decision = _decision("00000000-0000-4000-8000-0000000000b1", 1, UNIQUEID)
    source = CallSource(
        decision.decision_id, UNIQUEID, OURS, PERSON, "acme", None, decision.decided_at
    )
    terms = RetentionTerms("insurance", "contract + 5 years", "contract_end", None, 1826, None)
    name = f"dg-{UNIQUEID}-{PERSON[1:]}"
    new = NewRecording(
        name, source, NOW, NOW, 1000, 10, "0" * 64, "k1", "cn", f"acme/{name}.dgr", terms, NOW
    )
    async with side.store.transaction() as tx:
        await tx.decisions.add_many([decision])
        await tx.recordings.add(new)


async def expired_recording(side: Side) -> None:
    """A recording whose 30 days ended before the frozen and the real clock (its file gone)."""
    await recording(side)
    async with side.store.transaction() as tx:
        await tx.recordings.set_anchor(
            1, NOW - timedelta(days=60), NOW - timedelta(days=30), "seed", NOW, "ended"
        )


async def held_recording(side: Side) -> None:
    await recording(side)
    async with side.store.transaction() as tx:
        await tx.recordings.set_hold(1, True, "litigation", "seed", NOW - timedelta(days=1))


def _make_keyring(side: Side) -> None:
    keyring = Path(side.rec.keyring_file)
    if not keyring.exists():
        create_keyring(keyring, NOW)


async def keyring_made(side: Side) -> None:
    await asyncio.to_thread(_make_keyring, side)


def _spooled(side: Side) -> Path:
    """A finished call's WAV in the side's spool (its keyring made)."""
    _make_keyring(side)
    spool = Path(side.rec.spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    write_wav(spool / f"dg-{UNIQUEID}.wav", 1)
    os.utime(spool / f"dg-{UNIQUEID}.wav", (NOW.timestamp(), NOW.timestamp()))  # the call's end
    return spool / f"dg-{UNIQUEID}.wav"


async def _call(side: Side) -> None:
    decision = _decision("00000000-0000-4000-8000-0000000000c1", 40, UNIQUEID)
    async with side.store.transaction() as tx:
        await tx.decisions.add_many([decision])


async def ingested(side: Side) -> None:
    """A real recording in the side's vault, taken in as ``serve`` does."""
    await _call(side)
    spooled = _spooled(side)
    runtime = RecordingRuntime(side.rec, side.store, load_pack("cn"), lambda: NOW, REGION)
    await runtime.worker.ingest(spooled)


async def ingest_directly(side: Side, actor: Actor) -> None:
    await _call(side)
    spooled = _spooled(side)
    policy = RetentionPolicy.from_pack(load_pack("cn"))
    ingestor = Ingestor(
        side.store,
        open_vault(side.rec),
        policy,
        side.rec.region_for,
        lambda: NOW,
        then=recordings.ingest_hook(lambda: actor),
    )
    await ingestor.ingest(spooled)


async def token(side: Side) -> None:
    async with side.store.transaction() as tx:
        await tx.tokens.add(TOKEN_ID, "to revoke", Role.AUDITOR, "0" * 64, "seed", NOW)


async def dsr_request(side: Side) -> None:
    await dsr.receive(side.store, Actor("seed", NOW), "erase", PERSON, deadline_days=15)


async def restricted(side: Side) -> None:
    """An erasure that left a call restricted for 30 days; the sweep runs after them."""
    await history(side)
    await dsr.erase(
        side.store,
        Actor("seed", NOW - timedelta(days=40)),
        load_pack("cn"),
        PERSON,
        deadline_days=15,
    )


def files(**contents: str) -> Step:
    async def write(side: Side) -> None:
        for name, text in contents.items():
            (side.base / name.replace("_", ".")).write_text(text)

    return write


def both(*steps: Step) -> Step:
    async def run(side: Side) -> None:
        for step in steps:
            await step(side)

    return run


async def evidence_checked(side: Side, entry: AuditEntry) -> None:
    """Each evidence item vouches for its row as stored now, read as verification reads it (or
    for its absence)."""
    for item in entry.detail.get("evidence", []):
        async with side.store.transaction(readonly=True) as tx:
            (now,) = await tx.evidence.of(item["table"], [item["key"]])
        assert now == item, (entry.action, item)


def normalised(side: Side, entries: Sequence[AuditEntry], volatile: Sequence[str]) -> list[Any]:
    """Action, subject and detail, with who acted, where the side's files are, digests (they
    cover the actor's name in the rows) and generated token ids made neutral."""
    out = []
    for entry in entries:
        text = json.dumps([entry.action, entry.subject, entry.detail], ensure_ascii=False)
        text = text.replace(entry.actor, "<actor>").replace(str(side.base), "<base>")
        text = re.sub(r'"digest": "[0-9a-f]{64}"', '"digest": "<digest>"', text)
        action, subject, detail = json.loads(text)
        if action == "tokens.create" or subject in _values(detail, volatile):
            subject = "<volatile>"
        out.append([action, subject, _blank(detail, volatile)])
    return out


def _values(value: Any, keys: Sequence[str]) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in keys] + [
            found for v in value.values() for found in _values(v, keys)
        ]
    if isinstance(value, list):
        return [found for v in value for found in _values(v, keys)]
    return []


def _blank(value: Any, keys: Sequence[str]) -> Any:
    if isinstance(value, dict):
        return {k: "<volatile>" if k in keys else _blank(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v, keys) for v in value]
    return value

"""The admin API on a real port with a real store, shared by the ``test_api_*`` modules.

``running_api`` (behind the ``api`` fixtures of ``conftest.py``) starts the full stack (store on
SQLite and PostgreSQL, the gate, tokens for every role plus a revoked one) on 127.0.0.1 port 0;
tests talk HTTP to it like any client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from pg_databases import MigratedCopies

from dialguard.api import ApiContext, ApiServer, create_app
from dialguard.app import book_from
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.gate.service import GateService
from dialguard.ops.audited import Actor
from dialguard.ops.tokens import create_token, revoke_token
from dialguard.policy.model import NumberType, RegisteredNumber
from dialguard.settings.api import ApiSettings
from dialguard.settings.dsr import DsrSettings
from dialguard.storage import DecisionLog, Store
from dialguard.storage.facts import fact_reader
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role

CALLER = "+861058001234"
CALLEE = "+8613800138000"
ALLOWED_AT = "2026-11-25T10:00:00+08:00"
QUIET_AT = "2026-11-25T22:30:00+08:00"


@dataclass
class FakeMonotonic:
    """The rate limiters' clock, stepped by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class ApiHarness:
    url: str
    session: aiohttp.ClientSession
    store: Store
    settings: Settings
    monotonic: FakeMonotonic
    tokens: dict[str, str] = field(default_factory=dict)
    """Secrets by role, plus ``revoked`` (a revoked admin token) and ``invalid``."""

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "admin",
        json: Any = None,
        params: dict[str, str] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens[token]}"
        async with self.session.request(
            method, self.url + path, headers=headers, json=json, params=params, data=data
        ) as response:
            body = await response.json(content_type=None) if await response.read() else None
            return Reply(response.status, body, dict(response.headers))

    async def audit_tail(self, n: int = 20) -> list[Any]:
        async with self.store.transaction(readonly=True) as tx:
            return list(await tx.audit.tail(n))


def api_settings(base: Settings, tmp_path: Path) -> Settings:
    key_file = tmp_path / "subject.key"
    if not key_file.exists():
        SubjectKey.create(key_file)
    return replace(
        base,
        api=ApiSettings(host="127.0.0.1", port=0),
        dsr=DsrSettings(hash_key_file=str(key_file)),
    )


async def seed(store: Store) -> None:
    """Tenant acme with a registered callback number, and a callee who consented."""
    async with store.transaction() as tx:
        await tx.tenants.ensure("acme")
        await tx.numbers.add(
            RegisteredNumber(
                number=CALLER,
                tenant="acme",
                purposes=frozenset({"callback"}),
                inbound_enabled=True,
                outbound_enabled=True,
                number_type=NumberType.CALL_CENTRE,
                filing_ref="MIIT-2026-001",
                filed_on=None,
                active=True,
            )
        )
        await tx.consents.add(
            CALLEE,
            "acme",
            "callback",
            evidence_ref="ticket-42",
            channel="web",
            given_at=Clock.from_env({"DIALGUARD_NOW": "2026-01-01T00:00:00+08:00"}).now(),
        )
        await tx.audit.append("test", "seed", "acme", {"evidence": await tx.evidence.changed()})


@asynccontextmanager
async def running_api(
    db_settings: Settings, copies: MigratedCopies, tmp_path: Path, *, frozen: bool = False
) -> AsyncIterator[ApiHarness]:
    """The API on the empty database ``db_settings`` names, migrated by ``copies``."""
    settings = api_settings(db_settings, tmp_path)
    await copies.migrate(settings)
    store = await Store.open(settings)
    await seed(store)
    clock = Clock.from_env({"DIALGUARD_NOW": ALLOWED_AT}) if frozen else Clock()
    log = DecisionLog(store)
    log.start()
    facts = fact_reader(store)
    gate = GateService(facts, book_from(settings), clock, settings.numbers.default_region, log)
    monotonic = FakeMonotonic()
    server = ApiServer(settings.api, create_app(ApiContext.build(store, gate, settings, monotonic)))
    await server.start()
    session = aiohttp.ClientSession()
    try:
        harness = ApiHarness(f"http://127.0.0.1:{server.port}", session, store, settings, monotonic)
        by = Actor("test", clock.now())
        for role in Role:
            _, harness.tokens[role.value] = await create_token(
                store, by, role, f"test-{role.value}"
            )
        revoked, harness.tokens["revoked"] = await create_token(
            store, by, Role.ADMIN, "test-revoked"
        )
        await revoke_token(store, by, revoked.id)
        harness.tokens["invalid"] = "dgt_0123456789abcdef_" + "A" * 43
        yield harness
    finally:
        await session.close()
        await server.stop()
        await log.stop()
        facts.close()
        await store.close()

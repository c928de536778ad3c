"""The console on a running gate: sign-in, roles, audit of every page, masking, filters, keyset
paging, a decision's page, and the verification button (HTTP level; the browser e2e test is
``tests/e2e/test_console_browser.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from builders import gate_settings
from pg_databases import MigratedCopies

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.audit.checkpoint import SigningKey
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.ops.audited import Actor
from dialguard.ops.tokens import create_token
from dialguard.policy.model import (
    CallAttempt,
    Decision,
    NumberType,
    Reason,
    RegisteredNumber,
    Verdict,
)
from dialguard.storage.store import Store
from dialguard.storage.subject_key import SubjectKey
from dialguard.tokens.tokens import Role

pytestmark = pytest.mark.verification_child  # verification behind the console: its child process

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
CALLER = "+861088886666"


def settings_for(tmp_path: Path) -> Settings:
    if not (tmp_path / "subject.key").exists():
        SubjectKey.create(tmp_path / "subject.key")
    return gate_settings(
        tmp_path,
        api={"enabled": "true", "port": "0"},
        esl={"enabled": "false"},
        audit={"checkpoint_interval_s": "0"},
        dsr={"hash_key_file": str(tmp_path / "subject.key")},
    )


async def seed(settings: Settings, copies: MigratedCopies) -> None:
    await copies.migrate(settings)
    store = await Store.open(settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.tenants.ensure("clinic", industry="healthcare")
            for tenant in ("acme", "clinic"):
                await tx.numbers.add(
                    RegisteredNumber(
                        number=CALLER if tenant == "acme" else "+861088887777",
                        tenant=tenant,
                        purposes=frozenset({"callback"}),
                        inbound_enabled=True,
                        outbound_enabled=True,
                        number_type=NumberType.CALL_CENTRE,
                        filing_ref=None,
                        filed_on=None,
                        active=True,
                    )
                )
            await tx.consents.add(
                "+8613800138000",
                "acme",
                "callback",
                evidence_ref="t-1",
                channel="web",
                given_at=NOW,
            )
    finally:
        await store.close()


@pytest.fixture
async def gate(tmp_path: Path, migrated_copies: MigratedCopies) -> AsyncIterator[GateApp]:
    settings = settings_for(tmp_path)
    await seed(settings, migrated_copies)
    SigningKey.create(tmp_path / "audit-signing.key")
    app = GateApp(settings, Clock(NOW))
    await app.start()
    assert app.agi is not None
    asterisk = FakeAsterisk(app.agi.port)
    await asterisk.call(header_block(callerid="01088886666"))  # allowed
    await asterisk.call(header_block(callerid="01099990000"))  # callerid.unregistered
    await asterisk.call(header_block(args=("13900139000", "acme", "callback")))  # consent
    yield app
    await app.stop()


def base(app: GateApp) -> str:
    assert app.api is not None
    return f"http://127.0.0.1:{app.api.port}"


async def token(app: GateApp, role: Role) -> str:
    assert app.store is not None
    _, secret = await create_token(app.store, Actor("test", NOW), role, f"t-{role.value}")
    return secret


async def signed_in(app: GateApp, role: Role) -> aiohttp.ClientSession:
    secret = await token(app, role)
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    form = {"token": secret, "next": "/console/obligations"}
    url = f"{base(app)}/console/login"
    async with session.post(url, data=form, allow_redirects=False) as response:
        status, location = response.status, response.headers.get("Location")
    if status != 303 or location != "/console/obligations":
        await session.close()
        raise AssertionError(f"sign-in answered {status} {location}")
    return session


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


async def test_signing_in_needs_a_valid_token(gate: GateApp) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        status, _ = await get(session, f"{base(gate)}/console/decisions")
        assert status == 303  # to the sign-in page
        form = {"token": "dgt_wrong", "next": "/console/"}
        async with session.post(f"{base(gate)}/console/login", data=form) as response:
            assert response.status == 401
            assert "invalid or revoked" in await response.text()
        assert not session.cookie_jar.filter_cookies(base(gate))  # type: ignore[arg-type]


async def test_overview_counts_real_decisions_and_is_audited(gate: GateApp) -> None:
    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        status, html = await get(session, f"{base(gate)}/console/?tenant=acme")
    assert status == 200
    assert re.search(r'id="decided">3<', html)
    assert re.search(r'id="allowed">1<', html)
    assert re.search(r'id="denied">2<', html)
    data = json.loads(re.search(r'id="denials-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    totals = {s["label"]: sum(s["data"]) for s in data["datasets"]}
    assert totals == {"callerid.unregistered": 1, "consent.missing": 1}
    assert len(data["labels"]) == 7  # a week of local days
    note = re.search(r'id="counting">(.*?)</p>', html, re.S)
    assert note is not None and "include decisions later restricted" in note[1]
    assert "last 7 days of the range (since 2026-11-19 00:00)" in note[1]
    assert gate.store is not None
    async with gate.store.transaction(readonly=True) as tx:
        entries = await tx.audit.tail(20)
    pages = [dict(e.detail) for e in entries if e.action == "api.request"]
    expected = {"method": "GET", "route": "/console/", "status": 200}
    assert pages[-1].items() >= expected.items()
    assert any(p["route"] == "/console/login" for p in pages)


async def test_obligations_show_filings_expiring_expired_and_reported_late(
    gate: GateApp,
) -> None:
    assert gate.store is not None
    async with gate.store.transaction() as tx:
        ago = NOW - timedelta(days=40)
        for number, expires, effective, reported in (
            # changed 40 days ago, reported the next day; expired three days ago
            (CALLER, NOW.date() - timedelta(days=3), ago, ago.date() + timedelta(days=1)),
            # changed three weeks ago and never reported: past its 10 working days
            ("+861088887777", NOW.date() + timedelta(days=10), NOW - timedelta(days=20), None),
        ):
            (current,) = await tx.numbers.get(number)
            changed = replace(
                current, expires_on=expires, effective_from=effective, filed_on=reported
            )
            await tx.numbers.add(changed, at=NOW)
    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        status, html = await get(session, f"{base(gate)}/console/obligations")
    assert status == 200
    expiring = re.search(r'id="filings-expiring">(.*?)</table>', html, re.S)
    assert expiring is not None
    rows = re.findall(
        r"<tr[^>]*><td>(\+\d+)</td><td>(\w+)</td><td>([\d-]+)</td><td>(\w+)</td>", expiring[1]
    )
    assert rows == [
        (CALLER, "acme", "2026-11-22", "EXPIRED"),
        ("+861088887777", "clinic", "2026-12-05", "10"),
    ]
    late = re.search(r'id="filings-overdue">(.*?)</table>', html, re.S)
    assert late is not None
    overdue = re.findall(r"<td>(\+\d+)</td><td>(\w+)</td><td>(\w+)</td><td>([\d-]+)</td>", late[1])
    assert overdue == [("+861088887777", "clinic", "changed", "2026-11-05")]
    assert "NOT REPORTED" in late[1]


async def test_each_page_admits_its_roles(gate: GateApp) -> None:
    operator = await signed_in(gate, Role.OPERATOR)
    async with operator:
        assert (await get(operator, f"{base(gate)}/console/"))[0] == 200
        assert (await get(operator, f"{base(gate)}/console/decisions"))[0] == 403
        assert (await get(operator, f"{base(gate)}/console/evidence"))[0] == 403
    dsr = await signed_in(gate, Role.DSR)
    async with dsr:
        assert (await get(dsr, f"{base(gate)}/console/obligations"))[0] == 200
        assert (await get(dsr, f"{base(gate)}/console/"))[0] == 403


async def test_a_revoked_token_signs_its_session_out(gate: GateApp) -> None:
    from dialguard.ops.tokens import revoke_token

    assert gate.store is not None
    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        assert (await get(session, f"{base(gate)}/console/decisions"))[0] == 200
        async with gate.store.transaction(readonly=True) as tx:
            newest = max(await tx.tokens.list(), key=lambda t: t.created_at)
        await revoke_token(gate.store, Actor("test", NOW), newest.id)
        status, _ = await get(session, f"{base(gate)}/console/decisions")
    assert status == 303


async def test_decisions_filter_and_open_one(gate: GateApp) -> None:
    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        status, html = await get(session, f"{base(gate)}/console/decisions?verdict=deny")
        assert status == 200
        ids = re.findall(r'href="/console/decisions/([0-9a-f-]+)"', html)
        assert len(ids) == 2
        status, html = await get(
            session, f"{base(gate)}/console/decisions?verdict=allow&callee=13800138000"
        )
        allowed = re.findall(r'href="/console/decisions/([0-9a-f-]+)"', html)
        assert len(allowed) == 1
        status, page = await get(session, f"{base(gate)}/console/decisions/{allowed[0]}")
        bad = await get(session, f"{base(gate)}/console/decisions?callee=12ab")
    assert status == 200
    assert 'id="verdict">allow<' in page
    assert 'id="consent">t-1<' in page
    assert 'id="notice">required<' in page  # recorded under CN: the callee hears the notice
    assert "decision.allow" in page  # its audit entry
    assert "cn-2026" in page  # the explanation names the pack
    assert bad[0] == 400 and "callee: not a valid phone number" in bad[1]


async def test_sensitive_tenants_numbers_are_masked(gate: GateApp) -> None:
    assert gate.gate is not None
    await gate.gate.decide(CallAttempt("01088887777", "13700137000", tenant="clinic"))
    session = await signed_in(gate, Role.ADMIN)
    async with session:
        _, html = await get(session, f"{base(gate)}/console/decisions?tenant=clinic")
        _, overview = await get(session, f"{base(gate)}/console/?tenant=clinic")
    assert "+86 137****7000" in html and "13700137000" not in html
    assert "+8613700137000" not in html
    assert "1088887777" not in overview


async def test_a_notice_that_did_not_play_stands_out(gate: GateApp) -> None:
    assert gate.store is not None
    attempt = CallAttempt("01088886666", "13800138000", tenant="acme")
    decided = Decision("n0-missing", Verdict.ALLOW, (), "cn-test", NOW, attempt, CALLER, None)
    decided = replace(decided, record=True, notice=True, notice_played=False, notice_prompt="c/n")
    async with gate.store.transaction() as tx:
        await tx.decisions.add_many([decided])
    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        _, page = await get(session, f"{base(gate)}/console/decisions/{decided.decision_id}")
    assert '<dd id="notice" class="warn">missing (<code>c/n</code>)</dd>' in page


async def test_pages_are_keyset_paged(gate: GateApp) -> None:
    assert gate.decision_log is not None
    template = Decision(
        decision_id="x",
        verdict=Verdict.DENY,
        reasons=(Reason("dnc.global", "listed"),),
        policy_version="cn-2026.1",
        decided_at=NOW,
        attempt=CallAttempt("01088886666", "13800138000", tenant="acme", campaign="spring"),
        caller=CALLER,
        callee="+8613800138000",
    )
    for i in range(117):
        at = NOW - timedelta(minutes=i)
        await gate.decision_log.append(
            replace(template, decision_id=f"bulk-{i:04d}", decided_at=at)
        )
    session = await signed_in(gate, Role.AUDITOR)
    seen: list[str] = []
    url = f"{base(gate)}/console/decisions?reason=dnc.global&campaign=spring"
    async with session:
        while url:
            status, html = await get(session, url)
            assert status == 200
            seen += re.findall(r'href="/console/decisions/(bulk-\d+)"', html)
            more = re.search(r'id="older" href="([^"]+)"', html)
            url = f"{base(gate)}{more[1].replace('&amp;', '&')}" if more else ""
    assert seen == [f"bulk-{i:04d}" for i in range(117)]


async def test_verification_needs_the_form_secret_and_runs(gate: GateApp) -> None:
    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        _, html = await get(session, f"{base(gate)}/console/evidence")
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)[1]  # type: ignore[index]
        url = f"{base(gate)}/console/evidence/verify"
        async with session.post(url, data={"csrf": "forged"}, allow_redirects=False) as response:
            assert response.status == 403
        async with session.post(url, data={"csrf": csrf}, allow_redirects=False) as response:
            assert response.status == 303
        for _ in range(200):
            _, body = await get(session, f"{base(gate)}/console/evidence/progress")
            if not json.loads(body)["running"]:
                break
            await __import__("asyncio").sleep(0.1)
        _, html = await get(session, f"{base(gate)}/console/evidence")
    # The fixture seeds numbers and consents straight into the tables, past the audited
    # operations: the verification (run in its own process) finds them unvouched.
    assert json.loads(body)["ok"] is False
    assert 'id="verify-result">TAMPERED: 3 problems' in html
    assert "row registered_numbers/1: no entry vouches for it" in html


async def test_quarterly_report_from_the_console_is_signed(gate: GateApp, tmp_path: Path) -> None:
    from dialguard.reports.signature import verify

    session = await signed_in(gate, Role.AUDITOR)
    async with session:
        _, html = await get(session, f"{base(gate)}/console/report")
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)[1]  # type: ignore[index]
        form = {"csrf": csrf, "tenant": "acme", "quarter": "2026Q4", "lang": "en"}
        url = f"{base(gate)}/console/report"
        async with session.post(url, data=form, allow_redirects=False) as response:
            assert response.status == 303
        bad = {**form, "quarter": "2026Q9"}
        async with session.post(url, data=bad, allow_redirects=False) as response:
            assert response.status == 400
            assert "expected YEARQn" in await response.text()
        _, html = await get(session, url)
        links = re.findall(r'href="(/console/report/[^"]+)"', html)
        assert sorted(link.rsplit("/", 1)[1] for link in links) == [
            "dialguard-quarterly-acme-2026Q4-en.html",
            "dialguard-quarterly-acme-2026Q4-en.html.sig",
        ]
        files = {}
        for link in links:
            async with session.get(f"{base(gate)}{link}") as response:
                assert "attachment" in response.headers["Content-Disposition"]
                files[link.rsplit("/", 1)[1]] = await response.read()
    name = "dialguard-quarterly-acme-2026Q4-en.html"
    public = SigningKey.load(tmp_path / "audit-signing.key").public
    assert verify(files[name], files[name + ".sig"].decode(), public).sha256
    assert b'id="decided">3<' in files[name]

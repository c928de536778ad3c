"""No one's number in the chain: a realistic day through a running gate, then a scan of every
audit entry for every person's number in any spelling.

The gate runs as ``serve`` runs it (FastAGI, the admin API, recording) on one database; the CLI
works on the same database in-process. The day: tenants and access numbers filed, consents,
opt-outs (admin, public, typed in by an operator), a DNC import from each door, a removal,
frequency resets, scripts and text checks, tokens, live calls (allowed, denied, inbound, to a
healthcare patient), recordings taken in and put on hold, and data-subject requests — with the
numbers typed into every free-text field in every spelling people use. Then: no entry holds any
of them; the erased person's entries are there, by pseudonym only; and an ``auditor`` token
reading ``/v1/audit`` sees no patient's number.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner
from number_scan import found_in, leaks

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.cli.main import cli
from dialguard.clock import Clock
from dialguard.config import Settings, load_settings
from dialguard.ops.recording_testing import write_wav
from dialguard.storage import init_database
from dialguard.storage.subject_key import SubjectKey

NOW_TEXT = "2026-11-25T10:00:00+08:00"
NOW = datetime.fromisoformat(NOW_TEXT)
ACME_LINE = "+861088886666"
CLINIC_LINE = "+861088887777"


def person(n: int) -> str:
    return f"+86139001390{n:02d}"


def spaced(number: str) -> str:
    national = number[3:]
    return f"{national[:3]} {national[3:7]} {national[7:]}"


def dashed(number: str) -> str:
    national = number[3:]
    return f"+86-{national[:3]}-{national[3:7]}-{national[7:]}"


def dotted(number: str) -> str:
    national = number[3:]
    return f"{national[:3]}.{national[3:7]}.{national[7:]}"


PATIENT = person(20)
ERASED = person(30)
FILING = "MIIT 010 8888 6666"
"""A filing reference that spells our own access number: it may stay in clear."""


@dataclass
class Day:
    base: Path
    settings: Settings
    env: dict[str, str]
    gate: GateApp
    http: aiohttp.ClientSession
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        assert self.gate.api is not None
        return f"http://127.0.0.1:{self.gate.api.port}"

    async def cli(self, *args: str, stdin: str | None = None) -> str:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, list(args), input=stdin, env=self.env, catch_exceptions=False
        )
        assert result.exit_code == 0, (args, result.output)
        return result.output

    async def api(
        self, method: str, path: str, body: Any = None, token: str | None = "admin"
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        async with self.http.request(method, self.url + path, json=body, headers=headers) as reply:
            assert 200 <= reply.status < 300, (path, await reply.text())
            return await reply.json()

    async def call(
        self,
        callee: str,
        tenant: str = "acme",
        *,
        line: str = "01088886666",
        uniqueid: str,
        route: str = "outbound",
        name: str = "Agent 1001",
    ) -> str:
        """One call through FastAGI; returns the verdict."""
        assert self.gate.agi is not None
        args = (callee, tenant, "callback") if route == "outbound" else (line,)
        caller = line if route == "outbound" else callee
        block = header_block(
            route, args=args, callerid=caller, calleridname=name, uniqueid=uniqueid
        )
        record = await FakeAsterisk(self.gate.agi.port).call(block)
        return record.variables["DIALGUARD_VERDICT"]

    async def recorded(self, uniqueid: str) -> None:
        """The PBX leaves the call's WAV in the spool; serve takes it into the vault."""
        assert self.gate.recording is not None
        spool = Path(self.settings.recording.spool_dir)
        path = spool / f"dg-{uniqueid}.wav"
        await asyncio.to_thread(write_wav, path, 1)
        await self.gate.recording.worker.ingest(path)


def _settings(url: str, base: Path) -> Settings:
    return load_settings(
        environ={},
        cli={
            "database": {"url": url},
            "agi": {"port": "0"},
            "api": {"port": "0"},
            "esl": {"enabled": "false"},
            "recording": {
                "enabled": "true",
                "spool_dir": str(base / "spool"),
                "keyring_file": str(base / "keys.json"),
                "regions": f"cn={base / 'vault-cn'}",
                "retention_sweep_interval_s": "0",
            },
            "audit": {
                "signing_key_file": str(base / "audit-signing.key"),
                "checkpoint_file": str(base / "checkpoints.jsonl"),
            },
            "dsr": {"hash_key_file": str(base / "subject-hash.key")},
        },
    )


@pytest.fixture
async def day(db_settings: Settings, tmp_path: Path) -> AsyncIterator[Day]:
    settings = _settings(db_settings.database.url, tmp_path)
    (tmp_path / "spool").mkdir()
    (tmp_path / "dialguard.toml").write_text('[numbers]\ndefault_region = "CN"\n')
    await init_database(settings)
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    env = {
        "DIALGUARD_DATABASE_URL": settings.database.url,
        "DIALGUARD_CONFIG": str(tmp_path / "dialguard.toml"),
        "DIALGUARD_ACTOR": "cli-operator",
        "DIALGUARD_NOW": NOW_TEXT,
        "DIALGUARD_DSR_HASH_KEY_FILE": settings.dsr.hash_key_file,
        "DIALGUARD_AUDIT_SIGNING_KEY_FILE": settings.audit.signing_key_file,
        "DIALGUARD_AUDIT_CHECKPOINT_FILE": settings.audit.checkpoint_file,
        "DIALGUARD_RECORDING_KEYRING_FILE": settings.recording.keyring_file,
        "DIALGUARD_RECORDING_REGIONS": settings.recording.regions,
    }
    gate = GateApp(settings, Clock(NOW))
    async with aiohttp.ClientSession() as http:
        today = Day(tmp_path, settings, env, gate, http, {})
        await today.cli("keys", "init")
        await today.cli("audit", "init-key")
        secret = (await today.cli("tokens", "create", "--role", "admin", "--name", "ops")).split()
        today.tokens["admin"] = secret[-1]
        await gate.start()
        try:
            yield today
        finally:
            await gate.stop()


async def _morning(day: Day) -> None:
    """Filing, tokens, consents, opt-outs, imports, removals, resets, scripts and texts."""
    await day.cli("tenants", "add", "acme")
    await day.api("POST", "/v1/tenants", {"name": "clinic", "industry": "healthcare"})
    await day.cli("tenants", "add", "bank", "--industry", "finance")
    await day.cli("numbers", "add", "010-8888-6666", "--tenant", "acme", "--filing-ref", FILING)
    await day.api("POST", "/v1/numbers", {"number": "01088887777", "tenant": "clinic"})
    for role in ("auditor", "dsr", "operator"):
        created = await day.api("POST", "/v1/tokens", {"role": role, "name": role})
        day.tokens[role] = created["secret"]

    one, two, three, four = person(1), person(2), person(3), person(4)
    evidence = f"ticket: {dashed(one)} agreed"
    await day.cli(
        "consent", "add", spaced(one), "--tenant", "acme", "--purpose", "callback",
        "--evidence", evidence,
    )  # fmt: skip
    await day.api("POST", "/v1/consents", consent(dotted(two), "acme", f"IVR, caller {two[1:]}"))
    patient = consent(PATIENT, "clinic", f"patient {spaced(PATIENT)}")
    await day.api("POST", "/v1/consents", patient, token="operator")
    await day.api("POST", "/v1/consents", consent(ERASED, "acme", f"form of {dotted(ERASED)}"))
    await day.cli("consent", "revoke", two, "--tenant", "acme")

    never = f"said 'never call {spaced(two)} again'"
    await day.api("POST", "/v1/dnc", {"number": two, "tenant": "acme", "reason": never})
    sms = {"number": spaced(three), "channel": "sms", "reference": f"SMS from {dashed(three)}"}
    await day.api("POST", "/v1/optout", sms, token=None)
    mail = f"mail from {four[3:]}@example.com, tel {spaced(four)}"
    await day.cli("dnc", "optout", four, "--channel", "email", "--reference", mail)
    await day.cli("dnc", "add", person(6), "--reason", f"complaint {dotted(person(6))}")
    removal = {"number": person(6), "reason": f"not {person(6)[3:]}'s line after all"}
    await day.api("POST", "/v1/dnc/remove", removal)
    listing = day.base / f"optouts-{person(7)[3:]}.csv"
    listing.write_text(f"number\n{spaced(person(7))}\n{dashed(person(8))}\n")
    await day.cli("dnc", "import", str(listing), "--reason", f"list of {spaced(person(7))}")
    crm = {"numbers": [dotted(person(9))], "label": f"crm export {spaced(person(9))}"}
    await day.api("POST", "/v1/dnc/import", crm)

    back = f"{spaced(person(5))} asked for a call back"
    await day.cli("frequency", "reset", person(5), "--tenant", "acme", "--reason", back)
    twice = {"callee": one, "tenant": "acme", "reason": f"dialled {dashed(one)} twice"}
    await day.api("POST", "/v1/frequency/reset", twice)
    script = day.base / "pitch.txt"
    script.write_text(f"保本保息! Call {spaced(person(11))}.\n")
    await day.cli("scripts", "add", str(script), "--tenant", "bank", "--campaign", "q4")
    text = {"tenant": "bank", "text": f"稳赚不赔 — 回电 {dashed(person(10))}"}
    await day.api("POST", "/v1/text/check", text, token="operator")
    await day.cli("text", "check", "--tenant", "acme", stdin=f"call {person(12)} now")


def consent(callee: str, tenant: str, evidence: str) -> dict[str, str]:
    return {"callee": callee, "tenant": tenant, "purpose": "callback", "evidence": evidence}


async def _calls(day: Day) -> None:
    """Live calls, as Asterisk sends them; a caller name carrying a number too."""
    assert await day.call(person(1)[3:], uniqueid="1764036000.11") == "ALLOW"
    assert await day.call(person(2)[3:], uniqueid="1764036000.12") == "DENY"
    named = f"Agent {spaced(person(13))}"
    assert await day.call(person(13)[3:], uniqueid="1764036000.13", name=named) == "DENY"
    assert await day.call(ERASED[3:], uniqueid="1764036000.14") == "ALLOW"
    await day.call(PATIENT[3:], "clinic", line="01088887777", uniqueid="1764036000.15")
    await day.call(person(14)[3:], route="inbound", uniqueid="1764036000.16")
    for uniqueid in ("1764036000.11", "1764036000.14", "1764036000.15"):
        await day.recorded(uniqueid)


async def _afternoon(day: Day) -> None:
    """Holds, data-subject requests, an erasure."""
    recordings = await day.api("GET", "/v1/recordings", token="auditor")
    assert len(recordings) == 3
    first = min(r["id"] for r in recordings)
    hold = {"reason": f"complaint by {spaced(person(1))}"}
    await day.api("POST", f"/v1/recordings/{first}/hold", hold)
    await day.cli("recordings", "release", str(first), "--reason", f"{dashed(person(1))} withdrew")
    await day.cli("dsr", "correct", dotted(person(5)), "--minor")
    await day.api("POST", "/v1/dsr/requests", {"kind": "export", "number": PATIENT}, token="dsr")
    received = await day.cli("dsr", "receive", "erase", spaced(ERASED))
    request_id = int(received.split()[1].lstrip("#"))
    erase = {"kind": "erase", "number": dashed(ERASED), "request_id": request_id}
    await day.api("POST", "/v1/dsr/requests", erase, token="dsr")


async def test_no_one_s_number_is_in_the_chain_after_a_day(day: Day) -> None:
    await _morning(day)
    await _calls(day)
    await _afternoon(day)
    assert day.gate.store is not None
    async with day.gate.store.transaction(readonly=True) as tx:
        chain = list(await tx.audit.tail(100_000))
        pseudonym = tx.subject_key.subject(ERASED)

    actions = {e.action for e in chain}
    expected = {"decision.allow", "decision.deny", "recording.ingest", "recording.hold",
                "dnc.optout", "dnc.import.batch", "dsr.export", "dsr.erase", "text.check",
                "scripts.add", "api.request"}  # fmt: skip
    assert expected <= actions
    people = [person(n) for n in range(1, 15)] + [PATIENT, ERASED]
    assert leaks(chain, people) == []

    about_erased = {e.action for e in chain if e.subject == pseudonym}
    assert {"consent.add", "dsr.receive", "dsr.erase"} <= about_erased
    ours = [e for e in chain if e.action == "numbers.add"]
    assert [e.subject for e in ours] == [ACME_LINE, CLINIC_LINE]
    assert FILING in json.dumps(ours[0].detail, ensure_ascii=False)

    headers = {"Authorization": f"Bearer {day.tokens['auditor']}"}
    url = day.url + "/v1/audit"
    async with day.http.get(url, params={"limit": "1000"}, headers=headers) as reply:
        assert reply.status == 200
        seen = await reply.text()
    assert len(json.loads(seen)) == len(chain)  # the whole chain, this read's entry not yet
    assert found_in(seen, PATIENT) == []
    assert [n for n in people if found_in(seen, n)] == []

"""Every audited admin action leaves the same evidence whichever door it came through.

One table: each action is driven through the CLI (click's ``CliRunner``, in-process) into one
fresh database and through the admin API (aiohttp's test client) into another, both seeded
alike, on the same frozen clock and subject key. The audit entries each appended (the API's own
``api.request`` access entries aside) must be identical but for who acted. An action with one
door (host keys, the vault, the sweeps, serve's ingest) is driven through it and, on the other
side, by calling its :mod:`dialguard.ops` function directly: the door may add nothing.

Every ``evidence`` item must vouch for the row as stored (its digest recomputed from the row as
verification reads it), each action must vouch for the tables it writes, every change must say
what was there before and after, and no entry may hold the person's number in any spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from number_scan import leaks
from ops_doors import (
    DASHED,
    OURS,
    PERSON,
    SPACED,
    TOKEN_ID,
    Side,
    Step,
    api_door,
    both,
    cli_door,
    consent,
    dnc_entry,
    dsr_request,
    evidence_checked,
    expired_recording,
    files,
    held_recording,
    history,
    ingest_directly,
    ingested,
    keyring_made,
    normalised,
    ops_door,
    recording,
    restricted,
    token,
)

from dialguard.ops import dsr, keys, recordings
from dialguard.recording.vault import open_vault


@dataclass(frozen=True)
class Case:
    actions: tuple[str, ...]
    """The actions appended, in order (``api.request`` aside)."""
    left: Step
    right: Step
    setup: Step | None = None
    volatile: tuple[str, ...] = ()
    """Detail keys whose values differ by nature (a random key's id), blanked; the subject too
    when it is one of them."""
    note: str = ""

    @property
    def id(self) -> str:
        return "+".join(self.actions) + (f"[{self.note}]" if self.note else "")


WITHOUT_BEFORE_AFTER = {"dnc.import.batch", "dnc.import", "dsr.sweep", "recording.export"}
"""Bulk changes (counts, and the evidence of every row) and an export (it changes nothing
stored); every other entry says what was there before and what is there after."""

VOUCHES = {
    "numbers.add": {"registered_numbers"},
    "numbers.end": {"registered_numbers"},
    "dnc.add": {"dnc_entries"},
    "dnc.remove": {"dnc_entries"},
    "dnc.optout": {"dnc_entries"},
    "dnc.import.batch": {"dnc_entries"},
    "consent.add": {"consents"},
    "consent.revoke": {"consents"},
    "recording.hold": {"recordings"},
    "recording.release": {"recordings"},
    "recording.anchor": {"recordings"},
    "recording.delete": {"recordings"},
    "recording.ingest": {"recordings"},
    "dsr.erase": {"consents", "decisions", "dnc_entries"},
    "dsr.sweep": {"decisions"},
}
"""The evidentiary tables each action's entry vouches for rows of (in these cases): every row
it wrote, through either door; any other action writes none."""

DNC_LIST = f"{SPACED}\n139-0013-9033\nnot a number\n"

CASES = (
    Case(
        ("tenants.add",),
        cli_door("tenants", "add", "initech", "--industry", "finance"),
        api_door("POST", "/v1/tenants", {"name": "initech", "industry": "finance"}),
    ),
    Case(
        ("tenants.add",),
        cli_door("tenants", "add", "acme", "--industry", "healthcare"),
        api_door("POST", "/v1/tenants", {"name": "acme", "industry": "healthcare"}),
        note="industry change",
    ),
    Case(
        ("numbers.add",),
        cli_door("numbers", "add", "010 5800 1299", "--tenant", "bank", "--filing-ref", "MIIT-7"),
        api_door(
            "POST",
            "/v1/numbers",
            {"number": "01058001299", "tenant": "bank", "filing_ref": "MIIT-7"},
        ),
        note="new number",
    ),
    Case(
        ("numbers.add",),
        cli_door(
            "numbers",
            "add",
            OURS,
            "--tenant",
            "acme",
            "--no-inbound",
            "--purpose",
            "marketing",
            "--filed-on",
            "2026-01-05",
        ),
        api_door(
            "POST",
            "/v1/numbers",
            {
                "number": OURS,
                "tenant": "acme",
                "inbound": False,
                "purposes": ["marketing"],
                "filed_on": "2026-01-05",
            },
        ),
        note="filing update",
    ),
    Case(
        ("numbers.add",),
        cli_door("numbers", "add", "95555", "--tenant", "acme", "--expires-on", "2027-06-30"),
        api_door(
            "POST", "/v1/numbers", {"number": "95555", "tenant": "acme", "expires_on": "2027-06-30"}
        ),
        note="access code",
    ),
    Case(
        ("numbers.end", "numbers.add"),
        both(
            cli_door("numbers", "end", OURS, "--tenant", "acme"),
            cli_door("numbers", "add", OURS, "--tenant", "bank"),
        ),
        both(
            api_door("POST", "/v1/numbers/end", {"number": OURS, "tenant": "acme"}),
            api_door("POST", "/v1/numbers", {"number": OURS, "tenant": "bank"}),
        ),
        note="transfer",
    ),
    Case(
        ("numbers.report",),
        cli_door("numbers", "report", "1", "--filed-on", "2026-01-05"),
        api_door("POST", "/v1/numbers/report", {"change": 1, "filed_on": "2026-01-05"}),
    ),
    Case(
        ("dnc.add",),
        cli_door("dnc", "add", SPACED, "--reason", f"asked on {DASHED}", "--source", "callee"),
        api_door(
            "POST",
            "/v1/dnc",
            {"number": SPACED, "reason": f"asked on {DASHED}", "source": "callee"},
        ),
    ),
    Case(
        ("dnc.add",),
        cli_door(
            "dnc",
            "add",
            PERSON,
            "--tenant",
            "acme",
            "--campaign",
            "renewals",
            "--expires",
            "2027-01-01T00:00:00+08:00",
        ),
        api_door(
            "POST",
            "/v1/dnc",
            {
                "number": PERSON,
                "tenant": "acme",
                "campaign": "renewals",
                "expires": "2027-01-01T00:00:00+08:00",
            },
        ),
        note="campaign",
    ),
    Case(
        ("dnc.remove",),
        cli_door("dnc", "remove", PERSON, "--tenant", "acme", "--reason", f"not {SPACED}'s line"),
        api_door(
            "POST",
            "/v1/dnc/remove",
            {"number": PERSON, "tenant": "acme", "reason": f"not {SPACED}'s line"},
        ),
        setup=dnc_entry,
    ),
    Case(
        ("dnc.optout",),
        cli_door("dnc", "optout", PERSON, "--channel", "sms", "--reference", f"sms {DASHED}"),
        api_door(
            "POST",
            "/v1/optout",
            {"number": PERSON, "channel": "sms", "reference": f"sms {DASHED}"},
            token=False,
        ),
    ),
    Case(
        ("dnc.import.batch", "dnc.import"),
        cli_door("dnc", "import", "{base}/list.txt", "--tenant", "acme"),
        api_door(
            "POST",
            "/v1/dnc/import",
            {"numbers": DNC_LIST.splitlines(), "label": "list.txt", "tenant": "acme"},
        ),
        setup=files(list_txt=DNC_LIST),
    ),
    Case(
        ("consent.add",),
        cli_door(
            "consent",
            "add",
            PERSON,
            "--tenant",
            "acme",
            "--purpose",
            "callback",
            "--evidence",
            f"form signed by {SPACED}",
            "--channel",
            "web",
            "--given",
            "2026-11-01T09:00:00+08:00",
            "--expires",
            "2027-11-01T00:00:00+08:00",
        ),
        api_door(
            "POST",
            "/v1/consents",
            {
                "callee": PERSON,
                "tenant": "acme",
                "purpose": "callback",
                "evidence": f"form signed by {SPACED}",
                "channel": "web",
                "given": "2026-11-01T09:00:00+08:00",
                "expires": "2027-11-01T00:00:00+08:00",
            },
        ),
    ),
    Case(
        ("consent.revoke",),
        cli_door("consent", "revoke", PERSON, "--tenant", "acme", "--purpose", "callback"),
        api_door(
            "POST",
            "/v1/consents/revoke",
            {"callee": PERSON, "tenant": "acme", "purpose": "callback"},
        ),
        setup=consent,
    ),
    Case(
        ("frequency.reset",),
        cli_door("frequency", "reset", PERSON, "--tenant", "acme", "--reason", f"{SPACED} wrong"),
        api_door(
            "POST",
            "/v1/frequency/reset",
            {"callee": PERSON, "tenant": "acme", "reason": f"{SPACED} wrong"},
        ),
    ),
    Case(
        ("tokens.create",),
        cli_door("tokens", "create", "--role", "auditor", "--name", "ci"),
        api_door("POST", "/v1/tokens", {"role": "auditor", "name": "ci"}),
    ),
    Case(
        ("tokens.revoke",),
        cli_door("tokens", "revoke", TOKEN_ID),
        api_door("POST", f"/v1/tokens/{TOKEN_ID}/revoke", {}),
        setup=token,
    ),
    Case(
        ("scripts.add",),
        cli_door("scripts", "add", "{base}/pitch.txt", "--tenant", "bank", "--campaign", "q4"),
        api_door(
            "POST",
            "/v1/scripts",
            {
                "tenant": "bank",
                "campaign": "q4",
                "text": "Hello!\n保本保息, call 139 0013 9032.\n",
                "file_name": "pitch.txt",
            },
        ),
        setup=files(pitch_txt="Hello!\n保本保息, call 139 0013 9032.\n"),
    ),
    Case(
        ("text.check",),
        cli_door("text", "check", "--tenant", "bank", stdin="稳赚不赔 139-0013-9032"),
        api_door("POST", "/v1/text/check", {"tenant": "bank", "text": "稳赚不赔 139-0013-9032"}),
    ),
    Case(
        ("recording.hold",),
        cli_door("recordings", "hold", "1", "--reason", f"complaint by {SPACED}"),
        api_door("POST", "/v1/recordings/1/hold", {"reason": f"complaint by {SPACED}"}),
        setup=recording,
    ),
    Case(
        ("recording.release",),
        cli_door("recordings", "release", "1", "--reason", "case closed"),
        api_door("POST", "/v1/recordings/1/release", {"reason": "case closed"}),
        setup=held_recording,
    ),
    Case(
        ("recording.anchor",),
        cli_door(
            "recordings",
            "anchor",
            "1",
            "--at",
            "2026-12-31T00:00:00+08:00",
            "--reason",
            "policy ended",
        ),
        api_door(
            "POST",
            "/v1/recordings/1/anchor",
            {"at": "2026-12-31T00:00:00+08:00", "reason": "policy ended"},
        ),
        setup=recording,
    ),
    Case(
        ("dsr.receive",),
        cli_door("dsr", "receive", "erase", SPACED, "--received", "2026-11-24T09:00:00+08:00"),
        api_door(
            "POST",
            "/v1/dsr/requests",
            {
                "kind": "erase",
                "number": SPACED,
                "handle": False,
                "received": "2026-11-24T09:00:00+08:00",
            },
        ),
    ),
    Case(
        ("dsr.receive", "dsr.export"),
        cli_door("dsr", "export", PERSON, "--out", "{base}/export.json"),
        api_door("POST", "/v1/dsr/requests", {"kind": "export", "number": PERSON}),
        setup=history,
    ),
    Case(
        ("dsr.receive", "dsr.correct"),
        cli_door("dsr", "correct", PERSON, "--minor"),
        api_door("POST", "/v1/dsr/requests", {"kind": "correct", "number": PERSON, "minor": True}),
    ),
    Case(
        ("dsr.erase",),
        cli_door("dsr", "erase", PERSON, "--request", "1", "--yes"),
        api_door("POST", "/v1/dsr/requests", {"kind": "erase", "number": PERSON, "request_id": 1}),
        setup=both(history, dsr_request),
    ),
    Case(
        ("dsr.sweep",),
        cli_door("dsr", "sweep"),
        ops_door(lambda side, actor: dsr.sweep(side.store, actor)),
        setup=restricted,
    ),
    Case(
        ("audit.init-key",),
        cli_door("audit", "init-key"),
        ops_door(
            lambda side, actor: keys.init_signing_key(
                side.store, actor, side.base / "audit-signing.key"
            )
        ),
        volatile=("key_id",),
    ),
    Case(
        ("keys.init",),
        cli_door("keys", "init"),
        ops_door(lambda side, actor: keys.init_keyring(side.store, actor, side.base / "keys.json")),
        volatile=("key_id",),
    ),
    Case(
        ("keys.rotate",),
        cli_door("keys", "rotate"),
        ops_door(
            lambda side, actor: keys.rotate_keys(
                side.store, actor, open_vault(side.rec), Path(side.rec.keyring_file)
            )
        ),
        setup=ingested,
        volatile=("key_id",),
    ),
    Case(
        ("recording.export",),
        cli_door("recordings", "export", "1", "--out", "{base}/call.wav"),
        ops_door(
            lambda side, actor: recordings.export_recording(
                side.store, actor, open_vault(side.rec), 1, side.base / "call.wav"
            )
        ),
        setup=ingested,
    ),
    Case(
        ("recording.delete",),
        cli_door("retention", "sweep", frozen=False),
        ops_door(lambda side, actor: recordings.sweep(side.store, actor, open_vault(side.rec))),
        setup=both(keyring_made, expired_recording),
    ),
    Case(
        ("recording.ingest",),
        ingested,
        ops_door(ingest_directly),
        volatile=("key_id", "size_bytes"),
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_both_doors_leave_the_same_entries(sides: tuple[Side, Side], case: Case) -> None:
    results = []
    for side, door in zip(sides, (case.left, case.right), strict=True):
        if case.setup is not None:
            await case.setup(side)
        before = await side.last_seq()
        await door(side)
        entries = await side.entries_after(before)
        assert tuple(e.action for e in entries) == case.actions, [e.action for e in entries]
        for entry in entries:
            await evidence_checked(side, entry)
            vouched = {item["table"] for item in entry.detail.get("evidence", [])}
            assert vouched == VOUCHES.get(entry.action, set()), entry.action
            if entry.action not in WITHOUT_BEFORE_AFTER:
                assert {"before", "after"} <= entry.detail.keys(), entry.action
        assert leaks(entries, [PERSON]) == []
        results.append(normalised(side, entries, case.volatile))
    assert results[0] == results[1]


def test_the_table_covers_every_audited_action() -> None:
    """Every action name an ops module appends is in the table, so a new one cannot go
    unchecked (``api.request`` is the API's access log, checked by ``test_api``)."""
    modules = [p for p in Path("dialguard/ops").glob("*.py") if p.name != "recording_testing.py"]
    source = "\n".join(p.read_text() for p in modules)  # the tests' rig appends no action
    named = set(re.findall(r'"((?:[a-z]+)\.[a-z][a-z.-]*)"', source))
    audited = {name for name in named if name.split(".")[0] in _AREAS}
    covered = {action for case in CASES for action in case.actions}
    assert audited - {"api.request"} == covered


_AREAS = {
    "tenants", "numbers", "dnc", "consent", "frequency", "tokens", "scripts", "text",
    "recording", "dsr", "keys", "audit", "api",
}  # fmt: skip

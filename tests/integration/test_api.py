"""The admin API's behaviour over HTTP: the pre-dial check, the public opt-out, input errors,
audit entries and log masking."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_harness import ALLOWED_AT, CALLEE, CALLER, QUIET_AT, ApiHarness
from in_process import run_dialguard

from dialguard.logs import MaskingFormatter
from dialguard.policy.model import CallAttempt, Decision, DncScope, Verdict

pytestmark = pytest.mark.verification_child  # verification behind the API: its child process

CHECK = {"caller": CALLER, "callee": CALLEE, "tenant": "acme", "purpose": "callback"}


async def test_check_allows_with_200_and_records_nothing(api: ApiHarness) -> None:
    reply = await api.call("POST", "/v1/check", token="operator", json={**CHECK, "at": ALLOWED_AT})
    assert reply.status == 200, reply.body
    assert reply.body["verdict"] == "allow"
    assert reply.body["consent_ref"] == "ticket-42"
    assert reply.body["next_allowed_at"] is None
    async with api.store.transaction(readonly=True) as tx:
        assert await tx.decisions.list() == ()


async def test_check_denies_with_409_and_every_reason(api: ApiHarness) -> None:
    reply = await api.call("POST", "/v1/check", json={**CHECK, "at": QUIET_AT})
    assert reply.status == 409
    assert reply.body["verdict"] == "deny"
    assert [r["code"] for r in reply.body["reasons"]] == ["time.quiet_hours"]
    assert reply.body["next_allowed_at"] == "2026-11-26T09:00:00+08:00"


@pytest.mark.parametrize("at", [ALLOWED_AT, QUIET_AT])
async def test_check_answers_the_same_json_as_the_cli(
    api: ApiHarness, tmp_path: Path, at: str
) -> None:
    reply = await api.call("POST", "/v1/check", json={**CHECK, "at": at})
    env = {
        **os.environ,
        "DIALGUARD_DATABASE_URL": api.settings.database.url,
        "DIALGUARD_DSR_HASH_KEY_FILE": api.settings.dsr.hash_key_file,
        "DIALGUARD_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")
    env.pop("DIALGUARD_NOW", None)
    args = ["--caller", CALLER, "--callee", CALLEE, "--tenant", "acme", "--at", at, "--json"]
    result = await asyncio.to_thread(run_dialguard, ["check", *args], env=env)
    cli = json.loads(result.stdout)
    volatile = {"decision_id", "latency_ms"}
    assert {k: v for k, v in cli.items() if k not in volatile} == {
        k: v for k, v in reply.body.items() if k not in volatile
    }
    assert result.returncode == (0 if reply.status == 200 else 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CHECK, "callee": "12"}, "callee"),
        ({**CHECK, "caller": "not a number"}, "caller"),
        ({**CHECK, "at": "yesterday"}, "at"),
        ({**CHECK, "presentation": "hidden"}, "presentation"),
        ({**CHECK, "colour": "blue"}, "colour"),
        ({"callee": CALLEE}, "caller"),
    ],
)
async def test_invalid_input_is_a_400_naming_the_field(
    api: ApiHarness, body: dict[str, str], field: str
) -> None:
    reply = await api.call("POST", "/v1/check", json=body)
    assert reply.status == 400
    assert reply.body["error"]["field"] == field
    assert field in reply.body["error"]["message"]


async def test_malformed_json_is_a_400(api: ApiHarness) -> None:
    reply = await api.call("POST", "/v1/dnc", data=b'{"number": ')
    assert reply.status == 400
    assert reply.body["error"]["code"] == "invalid_json"
    reply = await api.call("POST", "/v1/dnc", json=["not", "an", "object"])
    assert reply.status == 400


async def test_unknown_paths_and_methods_answer_json(api: ApiHarness) -> None:
    missing = await api.call("GET", "/v1/nothing-here")
    assert missing.status == 404
    assert missing.body["error"]["code"] == "not_found"
    wrong = await api.call("DELETE", "/v1/numbers")
    assert wrong.status == 405
    assert "GET" in wrong.headers["Allow"]


async def test_a_write_is_audited_with_who_and_what_without_the_number(api: ApiHarness) -> None:
    reply = await api.call(
        "POST", "/v1/dnc", token="operator", json={"number": "13900139000", "reason": "asked"}
    )
    assert reply.status == 200
    assert reply.body["entry"]["number"] == "+8613900139000"
    change, access = (await api.audit_tail(2))[-2:]
    assert change.action == "dnc.add"
    assert change.actor.startswith("api:test-operator#")
    assert access.action == "api.request"
    assert access.detail == {
        "method": "POST",
        "route": "/v1/dnc",
        "status": 200,
        "token": change.actor.rsplit("#", 1)[1],
        "role": "operator",
    }
    assert access.subject == change.subject and access.subject.startswith("n:")
    for entry in (change, access):
        assert "13900139000" not in json.dumps(entry.detail) + entry.subject


async def test_a_filing_update_is_audited_with_what_it_replaced(api: ApiHarness) -> None:
    filing = {"number": CALLER, "tenant": "acme", "filing_ref": "MIIT-2026-002", "inbound": False}
    reply = await api.call("POST", "/v1/numbers", token="operator", json=filing)
    assert (reply.status, reply.body["outcome"]) == (200, "updated")
    change = (await api.audit_tail(2))[0]
    assert (change.action, change.subject) == ("numbers.add", CALLER)
    assert change.detail["before"]["filing_ref"] == "MIIT-2026-001"
    assert change.detail["before"]["inbound_enabled"] is True
    assert change.detail["after"]["filing_ref"] == "MIIT-2026-002"
    assert change.detail["after"]["inbound_enabled"] is False
    (item,) = change.detail["evidence"]
    assert item["table"] == "registered_numbers" and item["digest"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/consents",
            {
                "callee": CALLEE,
                "tenant": "acme",
                "purpose": "callback",
                "evidence": "form-1",
                "given": "2026-11-25T10:00:00+08:00",
                "expires": "2026-11-25T09:00:00+08:00",
            },
            "expires",
        ),
        ("/v1/dnc", {"number": CALLEE, "campaign": "renewals"}, "campaign"),
        ("/v1/dnc/import", {"numbers": [CALLEE], "label": "x", "tenant": "t" * 65}, "tenant"),
        (
            "/v1/dsr/requests",
            {"kind": "export", "number": CALLEE, "handle": False, "request_id": 1},
            "request_id",
        ),
    ],
)
async def test_an_operation_refusing_input_names_the_field(
    api: ApiHarness, path: str, body: dict[str, object], field: str
) -> None:
    before = len(await api.audit_tail(1000))
    reply = await api.call("POST", path, json=body)
    assert reply.status == 400, reply.body
    assert reply.body["error"]["field"] == field
    entries = await api.audit_tail(1000)
    assert [e.action for e in entries[before:]] == ["api.request"]


async def test_reads_and_refusals_are_audited_too(api: ApiHarness) -> None:
    await api.call("GET", "/v1/decisions", token="auditor")
    await api.call("GET", "/v1/decisions", token="operator")
    read, refused = (await api.audit_tail(2))[-2:]
    assert (read.detail["status"], read.detail["role"]) == (200, "auditor")
    assert (refused.detail["status"], refused.detail["role"]) == (403, "operator")


async def test_optout_adds_to_the_dnc_and_is_audited(api: ApiHarness) -> None:
    body = {"number": "+86 139 0013 9000", "channel": "sms", "reference": "sms-77"}
    reply = await api.call("POST", "/v1/optout", token=None, json=body)
    assert (reply.status, reply.body) == (202, {"status": "accepted"})
    listed = await api.call("GET", "/v1/dnc", params={"number": "13900139000"})
    [entry] = listed.body["entries"]
    assert (entry["scope"], entry["source"]) == ("global", "sms")
    assert "sms-77" in entry["reason"]
    [audit] = [e for e in await api.audit_tail() if e.action == "dnc.optout"]
    assert audit.actor == "optout:sms"
    assert audit.detail["reference"] == "sms-77"


async def test_optout_answers_the_same_whether_listed_or_not(api: ApiHarness) -> None:
    body = {"number": "13900139000", "channel": "web"}
    first = await api.call("POST", "/v1/optout", token=None, json=body)
    again = await api.call("POST", "/v1/optout", token=None, json=body)
    assert (first.status, first.body) == (again.status, again.body)


async def test_optout_is_rate_limited_per_number(api: ApiHarness) -> None:
    body = {"number": "13900139000", "channel": "web"}
    limit = api.settings.api.optout_number_burst
    statuses = [
        (await api.call("POST", "/v1/optout", token=None, json=body)).status
        for _ in range(limit + 1)
    ]
    assert statuses == [202] * limit + [429]
    throttled = await api.call("POST", "/v1/optout", token=None, json=body)
    assert throttled.body["error"]["code"] == "rate_limited"
    assert int(throttled.headers["Retry-After"]) >= 1
    other = await api.call("POST", "/v1/optout", token=None, json={**body, "number": "13700137000"})
    assert other.status == 202
    api.monotonic.now += 3600 / api.settings.api.optout_number_per_hour
    assert (await api.call("POST", "/v1/optout", token=None, json=body)).status == 202


async def test_optout_is_rate_limited_per_client_even_for_bad_input(api: ApiHarness) -> None:
    limit = api.settings.api.optout_client_burst
    statuses = [
        (await api.call("POST", "/v1/optout", token=None, json={"number": "x"})).status
        for _ in range(limit + 1)
    ]
    assert statuses == [400] * limit + [429]


async def test_access_log_masks_numbers(api: ApiHarness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="dialguard"):
        await api.call("GET", "/v1/dnc", params={"number": "+8613900139000"})
        await api.call("GET", "/v1/dnc", params={"number": "13900139000"}, token="invalid")
    lines = [MaskingFormatter(as_json=True).format(r) for r in caplog.records]
    assert any('"path": "/v1/dnc"' in line and '"status": 200' in line for line in lines)
    assert not any("13900139000" in line for line in lines)


async def test_rows_written_through_the_api_are_vouched_for(api: ApiHarness) -> None:
    consent = {"callee": "13900139000", "tenant": "acme", "purpose": "callback"}
    writes = [
        ("/v1/consents", {**consent, "evidence": "form-9"}),
        ("/v1/consents/revoke", consent),
        ("/v1/dnc", {"number": "13900139000", "tenant": "acme", "reason": "asked"}),
        ("/v1/dnc/remove", {"number": "13900139000", "tenant": "acme", "reason": "mistake"}),
        ("/v1/numbers", {"number": "01058009999", "tenant": "acme", "purposes": ["callback"]}),
    ]
    for path, body in writes:
        reply = await api.call("POST", path, json=body)
        assert reply.status in (200, 201), (path, reply.body)
    reply = await api.call(
        "POST", "/v1/optout", token=None, json={"number": "13900139001", "channel": "web"}
    )
    assert reply.status == 202
    changes = [e for e in await api.audit_tail(40) if e.action != "api.request"]
    assert [len(e.detail["evidence"]) for e in changes[-6:]] == [1, 1, 1, 1, 1, 1]

    both = await asyncio.gather(
        *(api.call("GET", "/v1/audit/verify", token="auditor", params={"full": "true"})
          for _ in range(2))
    )  # fmt: skip
    assert sorted(reply.status for reply in both) == [200, 409]
    [report] = [reply.body for reply in both if reply.status == 200]
    assert report["ok"], report["problems"]
    assert report["rows_checked"] == 6  # 2 numbers, 2 consents, 2 DNC entries

    async with api.store.transaction() as tx:
        await tx.dnc.remove("+8613900139001", scope=DncScope.GLOBAL, reason="quietly", by="mallory")
    reply = await api.call("GET", "/v1/audit/verify", token="auditor")
    problems = reply.body["problems"]
    assert [p["message"].endswith("(edited)") for p in problems] == [True], problems
    assert problems[0]["row"].startswith("dnc_entries/")


async def test_dnc_check_without_a_tenant_lists_every_list(api: ApiHarness) -> None:
    """A number on one tenant's list is listed (the gate denies that tenant's calls to it);
    without a tenant the answer names every list, with one only what bars that tenant."""
    reply = await api.call("POST", "/v1/dnc", json={"number": CALLEE, "tenant": "acme"})
    assert reply.status == 200, reply.body
    anywhere = await api.call("GET", "/v1/dnc", params={"number": CALLEE})
    assert anywhere.body["listed"] is True
    assert [(e["scope"], e["tenant"]) for e in anywhere.body["entries"]] == [("tenant", "acme")]
    assert (await api.call("POST", "/v1/tenants", json={"name": "globex"})).status == 200
    other = await api.call("GET", "/v1/dnc", params={"number": CALLEE, "tenant": "globex"})
    assert other.body == {"number": CALLEE, "listed": False, "entries": []}
    typo = await api.call("GET", "/v1/dnc", params={"number": CALLEE, "tenant": "amce"})
    assert typo.status == 400 and "did you mean 'acme'?" in typo.body["error"]["message"]


async def test_check_reads_a_naive_time_in_the_operators_zone(api: ApiHarness) -> None:
    """08:30 without an offset is 08:30 in Beijing (display.timezone's default for CN): quiet."""
    reply = await api.call("POST", "/v1/check", json={**CHECK, "at": "2026-11-26T08:30:00"})
    assert reply.status == 409, reply.body
    assert [r["code"] for r in reply.body["reasons"]] == ["time.quiet_hours"]
    assert reply.body["decided_at"] == "2026-11-26T08:30:00+08:00"


async def test_decisions_by_prefix_and_filters(api: ApiHarness) -> None:
    at = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    attempt = CallAttempt(CALLER, CALLEE, "acme")
    made = [
        Decision(f"abcd{n}000-0000-4000-8000-000000000000", verdict, (), "cn", at, attempt,
                 CALLER, CALLEE)
        for n, verdict in ((1, Verdict.ALLOW), (2, Verdict.DENY))
    ]  # fmt: skip
    async with api.store.transaction() as tx:
        await tx.decisions.add_many(made)
    one = await api.call("GET", "/v1/decisions/abcd2", token="auditor")
    assert one.status == 200 and one.body["decision_id"] == made[1].decision_id
    both = await api.call("GET", "/v1/decisions/abcd", token="auditor")
    assert both.status == 400 and made[0].decision_id in both.body["error"]["message"]
    denied = await api.call(
        "GET", "/v1/decisions", token="auditor", params={"verdict": "deny", "tenant": "acme"}
    )
    assert [d["decision_id"] for d in denied.body] == [made[1].decision_id]

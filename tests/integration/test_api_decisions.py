"""``POST /v1/decisions``: the recorded pre-dial decision. It is stored like a PBX call's (row,
audit entry), counts towards caps (concurrent requests for one callee: one allowed), and one
idempotency key (header or call id) gives one decision however often and however concurrently
it is retried. ``POST /v1/check`` stays a dry run and says so."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import replace

from api_harness import CALLEE, CALLER, ApiHarness

from dialguard.audit import service

CALL = {"caller": CALLER, "callee": CALLEE, "tenant": "acme", "purpose": "callback"}


async def rows(api: ApiHarness) -> Counter[str]:
    async with api.store.transaction(readonly=True) as tx:
        found = await tx.decisions.list(callee=CALLEE, limit=1000)
    return Counter(d.verdict.value for d in found)


async def test_a_recorded_decision_counts_and_a_check_does_not(
    api_at_allowed_time: ApiHarness,
) -> None:
    api = api_at_allowed_time
    checked = await api.call("POST", "/v1/check", json=CALL)
    assert (checked.status, checked.body["dry_run"]) == (200, True)
    assert await rows(api) == {}

    first = await api.call("POST", "/v1/decisions", token="operator", json=CALL)
    assert first.status == 200, first.body
    assert first.body["dry_run"] is False and first.body["verdict"] == "allow"
    stored = await api.call("GET", f"/v1/decisions/{first.body['decision_id']}")
    assert stored.status == 200 and stored.body["verdict"] == "allow"

    second = await api.call("POST", "/v1/decisions", json=CALL)
    assert second.status == 409
    assert second.body["reasons"][0]["code"] == "frequency.exceeded"
    again = await api.call("POST", "/v1/check", json=CALL)
    assert again.status == 409 and again.body["dry_run"] is True
    assert await rows(api) == {"allow": 1, "deny": 1}
    async with api.store.transaction(readonly=True) as tx:
        subjects = [e.subject for e in await tx.audit.tail(50) if e.actor == "gate"]
    assert subjects == [first.body["decision_id"], second.body["decision_id"]]
    report = await service.verify(api.settings)
    assert report.ok, report.problems


async def test_concurrent_requests_for_one_callee_allow_exactly_one(
    api_at_allowed_time: ApiHarness,
) -> None:
    api = api_at_allowed_time
    replies = await asyncio.gather(
        *(
            api.call("POST", "/v1/decisions", json={**CALL, "call_id": f"dialer-{n}"})
            for n in range(20)
        )
    )
    assert Counter(r.status for r in replies) == {200: 1, 409: 19}
    assert await rows(api) == {"allow": 1, "deny": 19}


async def test_concurrent_retries_with_one_key_get_one_decision(
    api_at_allowed_time: ApiHarness,
) -> None:
    api = api_at_allowed_time
    key = {"Idempotency-Key": "6b1e0c3e-retry"}
    replies = await asyncio.gather(
        *(api.call("POST", "/v1/decisions", json=CALL, headers=key) for _ in range(10))
    )
    assert {r.status for r in replies} == {200}
    assert len({r.body["decision_id"] for r in replies}) == 1
    later = await api.call("POST", "/v1/decisions", json=CALL, headers=key)
    assert later.body["decision_id"] == replies[0].body["decision_id"] and later.status == 200
    assert await rows(api) == {"allow": 1}


async def test_the_call_id_is_the_key_without_a_header(api_at_allowed_time: ApiHarness) -> None:
    api = api_at_allowed_time
    body = {**CALL, "call_id": "crm-call-77"}
    replies = await asyncio.gather(
        *(api.call("POST", "/v1/decisions", json=body) for _ in range(5))
    )
    assert len({r.body["decision_id"] for r in replies}) == 1
    assert replies[0].body["call_id"] == "crm-call-77"
    other = await api.call("POST", "/v1/decisions", json={**body, "call_id": "crm-call-78"})
    assert other.status == 409  # a new attempt: counted, and over the cap
    assert await rows(api) == {"allow": 1, "deny": 1}


async def test_a_bad_key_is_refused(api_at_allowed_time: ApiHarness) -> None:
    reply = await api_at_allowed_time.call(
        "POST", "/v1/decisions", json=CALL, headers={"Idempotency-Key": "k" * 129}
    )
    assert reply.status == 400 and reply.body["error"]["field"] == "Idempotency-Key"
    assert await rows(api_at_allowed_time) == {}


async def test_a_decisions_recording_notice_is_in_its_json(api_at_allowed_time: ApiHarness) -> None:
    api = api_at_allowed_time
    first = await api.call("POST", "/v1/decisions", token="operator", json=CALL)
    assert first.status == 200, first.body
    # The CN pack records the call and requires the notice: the PBX is to play it first.
    assert first.body["record"] is True
    assert (first.body["notice"], first.body["notice_prompt"]) == ("required", None)
    async with api.store.transaction(readonly=True) as tx:
        stored = await tx.decisions.get(first.body["decision_id"])
    assert stored is not None
    missing = replace(
        stored, decision_id=str(uuid.uuid4()), notice_played=False, notice_prompt="custom/notice"
    )
    async with api.store.transaction() as tx:
        await tx.decisions.add_many([missing])

    shown = await api.call("GET", f"/v1/decisions/{missing.decision_id}")
    assert shown.status == 200, shown.body
    assert (shown.body["notice"], shown.body["notice_prompt"]) == ("missing", "custom/notice")
    listed = await api.call("GET", "/v1/decisions")
    notices = {d["decision_id"]: d["notice"] for d in listed.body}
    assert notices == {first.body["decision_id"]: "required", missing.decision_id: "missing"}

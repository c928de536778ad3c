"""``POST /v1/text/check``: the tenant's banned phrases, positions in the text as sent."""

from __future__ import annotations

import hashlib
import json

from api_harness import ApiHarness


async def test_hits_are_reported_in_the_text_as_sent(api: ApiHarness) -> None:
    async with api.store.transaction() as tx:
        await tx.tenants.set_industry("acme", "education")
    text = "  家长您好！\n本课程 保 过，提分保证。"
    reply = await api.call(
        "POST", "/v1/text/check", token="operator", json={"tenant": "acme", "text": text}
    )
    assert reply.status == 200
    body = reply.body
    assert body["clean"] is False and body["packs"] == ["education"]
    assert body["phrase_version"].startswith("education@")
    spots = [(h["line"], h["column"], h["phrase"]) for h in body["hits"]]
    assert (2, 5, "保过") in spots and (2, 9, "提分保证") in spots
    for hit in body["hits"]:
        line = text.splitlines()[hit["line"] - 1]
        assert line[hit["column"] - 1] == hit["matched_text"][0]


async def test_clean_text_and_tenants_without_phrase_packs(api: ApiHarness) -> None:
    reply = await api.call("POST", "/v1/text/check", json={"tenant": "acme", "text": "保本"})
    assert reply.status == 200 and reply.body["clean"] is True and reply.body["packs"] == []
    async with api.store.transaction() as tx:
        await tx.tenants.set_industry("acme", "finance")
    reply = await api.call("POST", "/v1/text/check", json={"tenant": "acme", "text": "浮动收益"})
    assert reply.body["clean"] is True and reply.body["packs"] == ["finance"]


async def test_unknown_tenant_and_who_may_ask(api: ApiHarness) -> None:
    reply = await api.call("POST", "/v1/text/check", json={"tenant": "nobody", "text": "x"})
    assert reply.status == 404 and reply.body["error"]["code"] == "unknown_tenant"
    body = {"tenant": "acme", "text": "x"}
    assert (await api.call("POST", "/v1/text/check", token="auditor", json=body)).status == 403
    assert (await api.call("POST", "/v1/text/check", token=None, json=body)).status == 401
    too_long = {"tenant": "acme", "text": "字" * 5001}
    assert (await api.call("POST", "/v1/text/check", json=too_long)).status == 400


async def test_every_screening_is_audited_without_its_words(api: ApiHarness) -> None:
    async with api.store.transaction() as tx:
        await tx.tenants.set_industry("acme", "finance")
    text = "保本保息, call me on 139 0013 9032"
    reply = await api.call(
        "POST", "/v1/text/check", token="operator", json={"tenant": "acme", "text": text}
    )
    assert reply.status == 200
    screening, access = (await api.audit_tail(2))[-2:]
    assert (screening.action, screening.subject) == ("text.check", "acme")
    assert screening.actor.startswith("api:test-operator#")
    assert screening.detail["before"] == {
        "text": {"sha256": hashlib.sha256(text.encode()).hexdigest(), "characters": len(text)}
    }
    assert screening.detail["after"]["clean"] is False
    assert {h["phrase"] for h in screening.detail["after"]["hits"]} >= {"保本保息"}
    assert (access.action, access.detail["route"], access.detail["status"]) == (
        "api.request",
        "/v1/text/check",
        200,
    )
    stored = json.dumps([screening.detail, access.detail], ensure_ascii=False)
    assert "call me" not in stored and "9032" not in stored

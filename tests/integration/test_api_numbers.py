"""The number registry's lifecycle through the admin API (both backends): an access code named
by class, the holder named with 409, transfer, history, reporting, overdue and expiring."""

from __future__ import annotations

from datetime import date, timedelta

from api_harness import CALLER, ApiHarness

IN_20_DAYS = date.today() + timedelta(days=20)  # the API's clock is the real one


async def test_the_lifecycle_through_the_api(api: ApiHarness) -> None:
    for tenant in ("bank1", "bank2"):
        assert (await api.call("POST", "/v1/tenants", json={"name": tenant})).status == 200
    added = await api.call(
        "POST",
        "/v1/numbers",
        json={"number": "0086 95555", "tenant": "bank1", "expires_on": str(IN_20_DAYS)},
    )
    assert added.status == 200, added.body
    assert added.body["number"]["number"] == "+8695555"
    assert added.body["number"]["number_class"] == "service-national"

    held = await api.call("POST", "/v1/numbers", json={"number": CALLER, "tenant": "bank1"})
    assert held.status == 409
    assert held.body["error"]["code"] == "number_held"
    assert "'acme'" in held.body["error"]["message"]

    refused = await api.call("POST", "/v1/numbers/end", json={"number": CALLER, "tenant": "bank1"})
    assert refused.status == 400 and refused.body["error"]["field"] == "number"
    ended = await api.call("POST", "/v1/numbers/end", json={"number": CALLER, "tenant": "acme"})
    assert ended.status == 200 and ended.body["ended"]["tenant"] == "acme"
    moved = await api.call("POST", "/v1/numbers", json={"number": CALLER, "tenant": "bank1"})
    assert moved.status == 200 and moved.body["outcome"] == "created"

    history = await api.call("GET", f"/v1/numbers/{CALLER}/history")
    assert [(h["change"], h["terms"]["tenant"]) for h in history.body] == [
        ("filed", "acme"),
        ("ended", "acme"),
        ("filed", "bank1"),
    ]
    ending = history.body[1]
    assert ending["terms"]["filed_on"] is None
    # the ending is overdue only once 10 working days have passed; today it is not
    assert (await api.call("GET", "/v1/numbers/overdue")).body == []
    reported = await api.call(
        "POST",
        "/v1/numbers/report",
        json={"change": ending["change_id"], "filed_on": ending["recorded_at"][:10]},
    )
    assert reported.status == 200 and reported.body["terms"]["filed_on"] is not None
    missing = await api.call(
        "POST", "/v1/numbers/report", json={"change": 999, "filed_on": "2026-01-01"}
    )
    assert missing.status == 400 and missing.body["error"]["field"] == "change"

    soon = await api.call("GET", "/v1/numbers/expiring", params={"within_days": "30"})
    assert [(r["number"], r["expires_on"]) for r in soon.body] == [("+8695555", str(IN_20_DAYS))]
    assert (await api.call("GET", "/v1/numbers/expiring", params={"within_days": "10"})).body == []
    bad = await api.call("POST", "/v1/numbers", json={"number": "9555", "tenant": "bank1"})
    assert (bad.status, bad.body["error"]["code"]) == (400, "invalid_number")
    assert bad.body["error"]["field"] == "number" and "'9555'" in bad.body["error"]["message"]
    listed = await api.call("GET", "/v1/numbers", params={"ended": "true"})
    assert len(listed.body) == 3

"""Hostile input is a 400 naming what was wrong, on every backend: bodies nested too deep (the
anonymous opt-out too), date-times at the ends of the ISO range, and text the database cannot
store (NUL, unpaired surrogates, control characters, past the column's length). These came
back as 500 "internal error" or 503 "database unavailable"."""

from __future__ import annotations

import json

import pytest
from api_harness import CALLEE, CALLER, ApiHarness

from dialguard.clock import ClockError, parse_instant

DNC = {"number": CALLEE, "tenant": "acme", "reason": "asked"}


def nested(depth: int) -> bytes:
    return json.dumps({"number": CALLEE, "channel": "web"})[:-1].encode() + (
        b', "reference": ' + b"[" * depth + b"]" * depth + b"}"
    )


@pytest.mark.parametrize("depth", [9, 900, 20_000])
@pytest.mark.parametrize(
    ("path", "token"), [("/v1/optout", None), ("/v1/dnc", "admin"), ("/v1/tenants", "operator")]
)
async def test_a_body_nested_too_deep_is_a_400(
    api: ApiHarness, path: str, token: str | None, depth: int
) -> None:
    reply = await api.call("POST", path, token=token, data=nested(depth))
    assert reply.status == 400, reply.body
    assert reply.body["error"]["code"] == "invalid_json"
    assert "nested more than 8 levels" in reply.body["error"]["message"]


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1899-12-31T23:59:59Z",
    ],
)
async def test_a_date_time_out_of_range_is_a_400_naming_the_field(api: ApiHarness, at: str) -> None:
    check = {"caller": CALLER, "callee": CALLEE, "tenant": "acme", "purpose": "callback"}
    replies = {
        "at": await api.call("POST", "/v1/check", json={**check, "at": at}),
        "expires": await api.call("POST", "/v1/dnc", json={**DNC, "expires": at}),
        "since": await api.call("GET", "/v1/decisions", params={"since": at}),
    }
    for field, reply in replies.items():
        assert reply.status == 400, (field, reply.body)
        assert reply.body["error"]["field"] == field
        assert "out of range" in reply.body["error"]["message"]
    async with api.store.transaction(readonly=True) as tx:
        assert await tx.dnc.history(CALLEE) == ()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a\x00b", "'\\x00'"),
        ("\ud800", "'\\ud800'"),
        ("x\x1b[2J", "'\\x1b'"),
        ("two\nlines", "'\\n'"),
        ("t" * 201, "characters, not blank"),  # tenants are 1–64, reasons 1–200
    ],
)
async def test_text_the_database_cannot_hold_is_a_400_naming_the_field(
    api: ApiHarness, value: str, why: str
) -> None:
    optout = {"number": CALLEE, "channel": "web", "tenant": value}
    reset = {"callee": CALLEE, "tenant": "acme", "reason": value}
    requests = [
        ("tenant", "POST", "/v1/dnc", {**DNC, "tenant": value}, None),
        ("tenant", "POST", "/v1/optout", optout, None),
        ("name", "POST", "/v1/tenants", {"name": value}, None),
        ("tenant", "GET", "/v1/numbers", None, {"tenant": value}),
        ("reason", "POST", "/v1/frequency/reset", reset, None),
    ]
    for field, method, path, body, params in requests:
        if "\ud800" in value and params is not None:
            continue  # a URL cannot carry an unpaired surrogate
        data = None if body is None else json.dumps(body).encode()
        token = None if path == "/v1/optout" else "admin"
        reply = await api.call(method, path, token=token, data=data, params=params)
        assert reply.status == 400, (path, reply.body)
        assert reply.body["error"]["field"] == field, (path, reply.body)
        assert why in reply.body["error"]["message"], (path, reply.body)
    async with api.store.transaction(readonly=True) as tx:
        assert [t.name for t in await tx.tenants.list()] == ["acme"]


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-12-31T23:00:00Z"]
)
def test_instants_past_the_supported_years_are_refused_naming_the_option(text: str) -> None:
    with pytest.raises(ClockError, match=r"^--since: .* is out of range \(years 1900 to 8999\)"):
        parse_instant(text, "--since")


async def test_a_tenant_name_longer_than_its_column_is_a_400_on_every_backend(
    api: ApiHarness,
) -> None:
    """SQLite would store it, PostgreSQL refuses it: the limit is the column's, everywhere."""
    name = "t" * 65
    for path, body, field in [
        ("/v1/dnc", {**DNC, "tenant": name}, "tenant"),
        ("/v1/tenants", {"name": name}, "name"),
        ("/v1/dnc/import", {"numbers": [CALLEE], "label": "list", "tenant": name}, "tenant"),
        ("/v1/scripts", {"tenant": name, "campaign": "spring", "text": "Hello"}, "tenant"),
    ]:
        reply = await api.call("POST", path, json=body)
        assert reply.status == 400, reply.body
        assert reply.body["error"]["field"] == field
        assert "1–64 characters" in reply.body["error"]["message"]
    async with api.store.transaction() as tx:
        with pytest.raises(ValueError, match="tenant name must be 1–64 characters, got 65"):
            await tx.tenants.ensure(name)

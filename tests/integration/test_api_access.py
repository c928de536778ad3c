"""Every endpoint, tried with every role and with no, an invalid and a revoked token.

The expectations come from this file's own table (written from the issue's role list), not from
the application's: a route whose access class is wrong in the app fails here. The table must
name every operation the served OpenAPI document lists, so a new endpoint cannot go untested.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from api_harness import ALLOWED_AT, CALLEE, CALLER, ApiHarness

from dialguard.ops import dsr
from dialguard.ops.audited import Actor
from dialguard.policy.model import CallAttempt, Decision, DncEntry, DncScope, Verdict
from dialguard.storage.recording_records import CallSource, NewRecording, RetentionTerms
from dialguard.tokens.tokens import Role

PUBLIC = None
OPERATE = frozenset({"admin", "operator"})
AUDIT = frozenset({"admin", "auditor"})
RIGHTS = frozenset({"admin", "dsr"})
ADMIN = frozenset({"admin"})
ROLES = ("admin", "operator", "auditor", "dsr")
BAD_TOKENS = (None, "invalid", "revoked")
DECISION_ID = "00000000-0000-4000-8000-000000000001"
TOKEN_ID = "0123456789abcdef"
OTHER = "+8613900139000"
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)

Step = Callable[[ApiHarness], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    roles: frozenset[str] | None
    json: Any = None
    params: dict[str, str] | None = None
    setup: Step | None = None
    """Once, before the first call (the resource a GET by id reads)."""
    before_each: Step | None = None
    """Before every call (what a removal removes, fresh rate-limit buckets)."""
    denial_answers: bool = False
    """A 409 that is a recorded decision (``POST /v1/decisions``: quiet hours, caps, the gate's
    budget on a loaded machine) answers the request as much as a 200 does."""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


async def _decision(api: ApiHarness) -> None:
    attempt = CallAttempt(caller=CALLER, callee=CALLEE, tenant="acme")
    decision = Decision(DECISION_ID, Verdict.ALLOW, (), "cn-test", T0, attempt, CALLER, CALLEE)
    async with api.store.transaction() as tx:
        await tx.decisions.add_many([decision])


async def _recording(api: ApiHarness) -> None:
    await _decision(api)
    source = CallSource(DECISION_ID, None, CALLER, CALLEE, "acme", "standard", T0)
    terms = RetentionTerms("standard", "MIIT: 30 days", "call_end", T0, 30, None)
    new = NewRecording(
        "rec-1", source, T0, T0, 1000, 10, "0" * 64, "k1", "cn", "cn/rec-1", terms, T0
    )
    async with api.store.transaction() as tx:
        await tx.recordings.add(new)


async def _dnc_entry(api: ApiHarness) -> None:
    entry = DncEntry(OTHER, DncScope.GLOBAL, None, None, "admin", None, T0, None, "test")
    async with api.store.transaction() as tx:
        await tx.dnc.add(entry)


async def _dsr_request(api: ApiHarness) -> None:
    await dsr.receive(api.store, Actor("test", T0), "export", OTHER, deadline_days=15)


async def _registered(api: ApiHarness) -> None:
    """A number acme holds (again), for a role's turn to end it."""
    reply = await api.call(
        "POST", "/v1/numbers", token="admin", json={"number": "01058001236", "tenant": "acme"}
    )
    assert reply.status == 200, reply.body


async def _refill_buckets(api: ApiHarness) -> None:
    api.monotonic.now += 10**7


async def _token(api: ApiHarness) -> None:
    async with api.store.transaction() as tx:
        await tx.tokens.add(TOKEN_ID, "to revoke", Role.AUDITOR, "0" * 64, "test", T0)


async def _set_hold(api: ApiHarness, held: bool) -> None:
    async with api.store.transaction() as tx:
        await tx.recordings.set_hold(1, held, "test", "test", T0)


async def _release(api: ApiHarness) -> None:
    await _set_hold(api, False)


async def _hold(api: ApiHarness) -> None:
    await _set_hold(api, True)


CASES = (
    Case("GET", "/v1/openapi.json", PUBLIC),
    Case("GET", "/health", PUBLIC),
    Case(
        "POST",
        "/v1/optout",
        PUBLIC,
        json={"number": OTHER, "channel": "web"},
        before_each=_refill_buckets,
    ),
    Case("GET", "/v1/tenants", OPERATE),
    Case("POST", "/v1/tenants", OPERATE, json={"name": "initech", "industry": "finance"}),
    Case("GET", "/v1/numbers", OPERATE, params={"tenant": "acme"}),
    Case("POST", "/v1/numbers", OPERATE, json={"number": "01058001235", "tenant": "acme"}),
    Case(
        "POST",
        "/v1/numbers/end",
        OPERATE,
        json={"number": "01058001236", "tenant": "acme"},
        before_each=_registered,
    ),
    Case(
        "POST",
        "/v1/numbers/report",
        OPERATE,
        json={"change": 1, "filed_on": "2026-11-20"},
        setup=_registered,
    ),
    Case("GET", "/v1/numbers/overdue", OPERATE, params={"tenant": "acme"}),
    Case("GET", "/v1/numbers/expiring", OPERATE, params={"tenant": "acme"}),
    Case("GET", "/v1/numbers/{number}/history", OPERATE),
    Case("GET", "/v1/dnc", OPERATE, params={"number": OTHER, "tenant": "acme"}),
    Case("POST", "/v1/dnc", OPERATE, json={"number": OTHER, "tenant": "acme"}),
    Case(
        "POST",
        "/v1/dnc/remove",
        OPERATE,
        json={"number": OTHER, "reason": "entered by mistake"},
        before_each=_dnc_entry,
    ),
    Case("GET", "/v1/consents", OPERATE, params={"callee": CALLEE, "tenant": "acme"}),
    Case(
        "POST",
        "/v1/consents",
        OPERATE,
        json={"callee": OTHER, "tenant": "acme", "purpose": "callback", "evidence": "form-9"},
    ),
    Case("POST", "/v1/consents/revoke", OPERATE, json={"callee": CALLEE, "tenant": "acme"}),
    Case(
        "POST",
        "/v1/frequency/reset",
        OPERATE,
        json={"callee": CALLEE, "tenant": "acme", "reason": "complaint resolved"},
    ),
    Case(
        "POST",
        "/v1/check",
        OPERATE,
        json={"caller": CALLER, "callee": CALLEE, "tenant": "acme", "at": ALLOWED_AT},
    ),
    Case(
        "POST",
        "/v1/decisions",
        OPERATE,
        json={"caller": CALLER, "callee": CALLEE, "tenant": "acme"},
        denial_answers=True,
    ),
    Case("POST", "/v1/text/check", OPERATE, json={"tenant": "acme", "text": "hello"}),
    Case("POST", "/v1/dnc/import", OPERATE, json={"numbers": [OTHER], "label": "crm"}),
    Case("GET", "/v1/scripts", OPERATE, params={"tenant": "acme"}),
    Case(
        "POST",
        "/v1/scripts",
        OPERATE,
        json={"tenant": "acme", "campaign": "renewals", "text": "hello"},
    ),
    Case(
        "POST",
        "/v1/recordings/{recording_id}/hold",
        OPERATE,
        json={"reason": "litigation"},
        setup=_recording,
        before_each=_release,
    ),
    Case(
        "POST",
        "/v1/recordings/{recording_id}/release",
        OPERATE,
        json={"reason": "case closed"},
        setup=_recording,
        before_each=_hold,
    ),
    Case(
        "POST",
        "/v1/recordings/{recording_id}/anchor",
        OPERATE,
        json={"at": "2026-12-31T00:00:00+08:00", "reason": "contract ended"},
        setup=_recording,
    ),
    Case("GET", "/v1/decisions", AUDIT, params={"callee": CALLEE}),
    Case("GET", "/v1/decisions/{decision_id}", AUDIT, setup=_decision),
    Case("GET", "/v1/recordings", AUDIT),
    Case("GET", "/v1/recordings/{recording_id}", AUDIT, setup=_recording),
    Case("GET", "/v1/audit", AUDIT, params={"limit": "5"}),
    Case("GET", "/v1/audit/verify", AUDIT),
    Case("GET", "/v1/dsr/requests", RIGHTS, params={"open_only": "true"}),
    Case("POST", "/v1/dsr/requests", RIGHTS, json={"kind": "export", "number": OTHER}),
    Case("GET", "/v1/dsr/requests/{request_id}", RIGHTS, setup=_dsr_request),
    Case("GET", "/v1/tokens", ADMIN),
    Case("POST", "/v1/tokens", ADMIN, json={"role": "auditor", "name": "ci"}),
    Case("POST", "/v1/tokens/{token_id}/revoke", ADMIN, setup=_token),
)

_PATH_VALUES = {
    "decision_id": DECISION_ID,
    "number": "01058001236",
    "recording_id": "1",
    "request_id": "1",
    "token_id": TOKEN_ID,
}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_every_role_and_bad_token_gets_what_the_table_says(
    api: ApiHarness, case: Case
) -> None:
    if case.setup is not None:
        await case.setup(api)
    path = case.path.format(**_PATH_VALUES)
    seen: dict[str | None, int] = {}
    for credential in (*ROLES, *BAD_TOKENS):
        if case.before_each is not None:
            await case.before_each(api)
        reply = await api.call(
            case.method, path, token=credential, json=case.json, params=case.params
        )
        seen[credential] = reply.status
        if case.roles is PUBLIC or credential in case.roles:
            if case.denial_answers and reply.status == 409:
                assert reply.body["dry_run"] is False and reply.body["decision_id"]
                continue
            assert 200 <= reply.status < 300, (credential, reply.body)
        elif credential in BAD_TOKENS:
            assert reply.status == 401, (credential, reply.body)
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
            assert reply.body["error"]["code"] == "unauthorized"
        else:
            assert reply.status == 403, (credential, reply.body)
            assert reply.body["error"]["code"] == "forbidden"
    assert len(seen) == len(ROLES) + len(BAD_TOKENS)


async def test_the_table_covers_every_operation_the_api_serves(api: ApiHarness) -> None:
    document = (await api.call("GET", "/v1/openapi.json", token=None)).body
    served = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert served == {case.id for case in CASES}

"""A typo is bad input at both doors: an unknown tenant, purpose or consent channel, or a
do-not-call entry already lapsed, is refused with the closest known name (CLI exit 2, API 400),
and nothing is stored or audited — no tenant is created on the way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from ops_doors import PERSON, Side

from dialguard.cli.main import cli
from dialguard.ops.audited import Invalid

TENANT_TYPO = "unknown tenant 'bnak'; did you mean 'bank'? create it with `dialguard tenants add`"


@dataclass(frozen=True)
class Refusal:
    argv: tuple[str, ...]
    method: str
    path: str
    body: dict[str, Any]
    message: str


REFUSALS = (
    Refusal(
        ("consent", "add", PERSON, "--tenant", "bnak", "--purpose", "callback", "--evidence", "e"),
        "POST",
        "/v1/consents",
        {"callee": PERSON, "tenant": "bnak", "purpose": "callback", "evidence": "e"},
        TENANT_TYPO,
    ),
    Refusal(
        ("consent", "add", PERSON, "--tenant", "acme", "--purpose", "markting", "--evidence", "e"),
        "POST",
        "/v1/consents",
        {"callee": PERSON, "tenant": "acme", "purpose": "markting", "evidence": "e"},
        "unknown purpose 'markting'; did you mean 'marketing'?",
    ),
    Refusal(
        (
            "consent",
            "add",
            PERSON,
            "--tenant",
            "acme",
            "--purpose",
            "callback",
            "--evidence",
            "e",
            "--channel",
            "pigeon",
        ),
        "POST",
        "/v1/consents",
        {
            "callee": PERSON,
            "tenant": "acme",
            "purpose": "callback",
            "evidence": "e",
            "channel": "pigeon",
        },
        "unknown consent channel 'pigeon'; known channels: app, email,",
    ),
    Refusal(
        ("dnc", "add", PERSON, "--tenant", "bnak"),
        "POST",
        "/v1/dnc",
        {"number": PERSON, "tenant": "bnak"},
        TENANT_TYPO,
    ),
    Refusal(
        ("dnc", "add", PERSON, "--expires", "2026-11-25T09:00:00+08:00"),
        "POST",
        "/v1/dnc",
        {"number": PERSON, "expires": "2026-11-25T09:00:00+08:00"},
        "expires: is already past",
    ),
    Refusal(
        ("dnc", "import", "{base}/list.txt", "--tenant", "bnak"),
        "POST",
        "/v1/dnc/import",
        {"numbers": [PERSON], "label": "list.txt", "tenant": "bnak"},
        TENANT_TYPO,
    ),
    Refusal(
        ("numbers", "add", "01058001299", "--tenant", "bnak"),
        "POST",
        "/v1/numbers",
        {"number": "01058001299", "tenant": "bnak"},
        TENANT_TYPO,
    ),
    Refusal(
        ("numbers", "add", "01058001299", "--tenant", "bank", "--purpose", "teleporting"),
        "POST",
        "/v1/numbers",
        {"number": "01058001299", "tenant": "bank", "purposes": ["teleporting"]},
        "unknown purpose 'teleporting'; the rule packs define callback, consultation,",
    ),
    Refusal(
        ("frequency", "reset", PERSON, "--tenant", "nosuch", "--reason", "r"),
        "POST",
        "/v1/frequency/reset",
        {"callee": PERSON, "tenant": "nosuch", "reason": "r"},
        "unknown tenant 'nosuch'; create it with `dialguard tenants add`",
    ),
    Refusal(
        ("check", "--caller", "01058001234", "--callee", PERSON, "--tenant", "bnak"),
        "POST",
        "/v1/check",
        {"caller": "01058001234", "callee": PERSON, "tenant": "bnak"},
        TENANT_TYPO,
    ),
    Refusal(
        (
            "check",
            "--caller",
            "01058001234",
            "--callee",
            PERSON,
            "--tenant",
            "acme",
            "--purpose",
            "teleporting",
        ),
        "POST",
        "/v1/check",
        {"caller": "01058001234", "callee": PERSON, "tenant": "acme", "purpose": "teleporting"},
        "unknown purpose 'teleporting'",
    ),
)


async def _state(side: Side) -> tuple[Any, ...]:
    async with side.store.transaction(readonly=True) as tx:
        return (
            await tx.tenants.list(),
            await tx.dnc.history(PERSON),
            await tx.consents.for_callee(PERSON, "acme"),
            await tx.numbers.list(None),
            await side.last_seq(),
        )


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: f"{c.path}:{c.message[:24]}")
async def test_unknown_names_are_refused_at_both_doors(
    sides: tuple[Side, Side], case: Refusal
) -> None:
    left, right = sides
    (left.base / "list.txt").write_text(f"{PERSON}\n")
    before = await _state(left)
    argv = [a.replace("{base}", str(left.base)) for a in case.argv]
    result = await asyncio.to_thread(CliRunner().invoke, cli, argv, env=left.env)
    assert isinstance(result.exception, Invalid), result.output
    assert case.message in str(result.exception)
    assert await _state(left) == before

    before = await _state(right)
    headers = {"Authorization": f"Bearer {right.admin}"}
    response = await right.client.request(case.method, case.path, json=case.body, headers=headers)
    assert response.status == 400, await response.text()
    assert case.message in (await response.json())["error"]["message"]
    after = await _state(right)
    assert after[:4] == before[:4]  # the API's own access entry aside

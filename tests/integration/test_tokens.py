"""API tokens: the secret is shown once, stored only as a hash, and stops working when revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from dialguard.ops.audited import Actor
from dialguard.ops.tokens import create_token, revoke_token
from dialguard.storage import Store
from dialguard.tokens.tokens import (
    PREFIX,
    Role,
    UnknownToken,
    authenticate,
    list_tokens,
    parse_secret,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def test_create_authenticate_revoke(store: Store) -> None:
    created, secret = await create_token(store, Actor("alice", T0), "auditor", "ci")
    token_id = created.id
    token = await authenticate(store, secret, now=T0)
    assert token is not None and token.id == token_id and token.role is Role.AUDITOR
    assert (await list_tokens(store))[0].last_used_at == T0

    revoked = await revoke_token(store, Actor("bob", T0 + timedelta(hours=1)), token_id)
    assert revoked.revoked_by == "bob"
    assert await authenticate(store, secret, now=T0 + timedelta(hours=2)) is None
    with pytest.raises(UnknownToken):
        await revoke_token(store, Actor("bob", T0), "0" * 16)

    async with store.transaction(readonly=True) as tx:
        entries = await tx.audit.tail(10)
    assert [(e.action, e.subject) for e in entries] == [
        ("tokens.create", token_id),
        ("tokens.revoke", token_id),
    ]
    # the random part alone: it may itself hold "_" (base64url), so split only the prefix off
    random_part = secret.removeprefix(f"{PREFIX}{token_id}_")
    assert len(random_part) == 43
    assert random_part not in str([e.detail for e in entries])


async def test_wrong_malformed_and_unknown_secrets_are_refused(store: Store) -> None:
    _, secret = await create_token(store, Actor("alice", T0), Role.ADMIN)
    middle = 30
    other = "A" if secret[middle] != "A" else "B"
    non_canonical = secret[:-1] + ("B" if secret[-1] == "A" else "A")
    for bad in (
        secret[:middle] + other + secret[middle + 1 :],
        non_canonical,
        "dgt_" + "f" * 16 + secret[20:],
        "not a token",
        secret + "x",
        "",
    ):
        assert await authenticate(store, bad, now=T0) is None, bad


async def test_only_the_hash_of_the_random_part_is_stored(store: Store) -> None:
    created, secret = await create_token(store, Actor("alice", T0), "dsr", "portal")
    token_id = created.id
    parsed = parse_secret(secret)
    assert parsed is not None and parsed[0] == token_id
    async with store.transaction(readonly=True) as tx:
        found = await tx.tokens.with_hash(token_id)
    assert found is not None
    assert found[1] == hashlib.sha256(parsed[1]).hexdigest()


async def test_last_used_is_refreshed_at_most_once_a_minute(store: Store) -> None:
    _, secret = await create_token(store, Actor("alice", T0), "operator")
    await authenticate(store, secret, now=T0)
    await authenticate(store, secret, now=T0 + timedelta(seconds=30))
    assert (await list_tokens(store))[0].last_used_at == T0
    await authenticate(store, secret, now=T0 + timedelta(minutes=2))
    assert (await list_tokens(store))[0].last_used_at == T0 + timedelta(minutes=2)

"""API tokens: created with a role (the secret shown once), revoked; each audited."""

from __future__ import annotations

from ..storage.store import Store
from ..tokens.tokens import Role, Token, UnknownToken, new_secret
from .audited import Actor, Invalid, record

NAME_LENGTH = 100


async def create_token(
    store: Store, actor: Actor, role: Role | str, name: str = ""
) -> tuple[Token, str]:
    """A new token for ``role`` and its secret, which exists only in this return value: show it
    once. Audited ``tokens.create`` (name and role, never the secret or its digest)."""
    try:
        role = Role(role)
    except ValueError:
        raise Invalid("role", f"must be one of {', '.join(r.value for r in Role)}") from None
    name = name.strip()
    if len(name) > NAME_LENGTH:
        raise Invalid("name", f"must be at most {NAME_LENGTH} characters")
    fresh = new_secret()
    async with store.transaction() as tx:
        token = await tx.tokens.add(fresh.token_id, name, role, fresh.digest, actor.name, actor.now)
        detail = {"before": None, "after": {"name": token.name, "role": token.role.value}}
        await record(tx, actor, "tokens.create", token.id, detail)
    return token, fresh.secret


async def revoke_token(store: Store, actor: Actor, token_id: str) -> Token:
    """Revoke ``token_id`` (effective for the next request); revoking twice changes nothing and
    is not audited again. Raises :class:`UnknownToken`."""
    async with store.transaction() as tx:
        before = await tx.tokens.get(token_id)
        if before is None:
            raise UnknownToken(f"no API token {token_id!r}")
        if await tx.tokens.revoke(token_id, actor.name, actor.now):
            after = await tx.tokens.get(token_id)
            assert after is not None
            detail = {
                "before": {"revoked_at": before.revoked_at},
                "after": {"revoked_at": after.revoked_at, "revoked_by": after.revoked_by},
            }
            await record(tx, actor, "tokens.revoke", token_id, detail)
        after = await tx.tokens.get(token_id)
    assert after is not None
    return after

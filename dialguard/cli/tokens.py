"""``dialguard tokens``: API tokens for the admin API (stored hashed, shown once)."""

from __future__ import annotations

import click

from ..ops.tokens import create_token, revoke_token
from ..tokens.tokens import Role, Token, list_tokens
from ..views import jsonable
from .runtime import emit_json, run, state


@click.group("tokens")
def group() -> None:
    """API tokens, one role each: admin, operator, auditor, dsr."""


@group.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="What the token may do.",
)
@click.option("--name", default="", help="What the token is for (shown in `tokens list`).")
@click.pass_context
def create(ctx: click.Context, role: str, name: str) -> None:
    """Create a token; its secret is printed once and cannot be shown again."""
    cli = state(ctx)

    async def _create() -> tuple[Token, str]:
        async with cli.store() as store:
            return await create_token(store, cli.act(), role, name)

    token, secret = run(_create)
    click.echo(f"token {token.id} ({role}) created; its secret, shown only now:", err=True)
    click.echo(secret)


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """Every API token: id, role, label, who created it and when, revoked or not (never the
    secret)."""
    cli = state(ctx)

    async def _list() -> tuple[Token, ...]:
        async with cli.store() as store:
            return await list_tokens(store)

    tokens = run(_list)
    if as_json:
        emit_json([jsonable(t) for t in tokens])
        return
    for t in tokens:
        state_text = f"revoked {t.revoked_at.isoformat()}" if t.revoked_at else "active"
        used = t.last_used_at.isoformat() if t.last_used_at else "never used"
        click.echo(f"{t.id}  {t.role:8}  {state_text}  {used}  {t.name}")


@group.command("revoke")
@click.argument("token_id")
@click.pass_context
def revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke TOKEN_ID; requests with it fail from now on."""
    cli = state(ctx)

    async def _revoke() -> Token:
        async with cli.store() as store:
            return await revoke_token(store, cli.act(), token_id)

    token = run(_revoke)
    assert token.revoked_at is not None
    click.echo(f"token {token.id} revoked at {token.revoked_at.isoformat()}")

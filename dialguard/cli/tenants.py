"""``dialguard tenants``: the call centres served, and the industry whose rules apply to each."""

from __future__ import annotations

import click

from ..ops.tenants import add_tenant
from ..policy.model import INDUSTRIES
from ..views import jsonable
from .runtime import emit_json, run, state


@click.group("tenants")
def group() -> None:
    """Tenants and their industry."""


@group.command("add")
@click.argument("name")
@click.option(
    "--industry",
    type=click.Choice(INDUSTRIES),
    default="general",
    help="Whose industry rules (overlay packs) apply.",
)
@click.pass_context
def add(ctx: click.Context, name: str, industry: str) -> None:
    """Create tenant NAME, or change its industry."""
    cli = state(ctx)

    async def _add() -> str:
        async with cli.store() as store:
            return (await add_tenant(store, cli.act(), name, industry)).value

    click.echo(f"{name} ({industry}): {run(_add)}")


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def list_tenants(ctx: click.Context, as_json: bool) -> None:
    """Every tenant and its industry, by name."""
    cli = state(ctx)

    async def _list() -> list[dict[str, object]]:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            return [jsonable(t) for t in await tx.tenants.list()]

    rows = run(_list)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']}  {row['industry']}")

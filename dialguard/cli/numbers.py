"""``dialguard numbers``: the registry of access numbers a tenant may present."""

from __future__ import annotations

from datetime import datetime

import click

from ..ops.numbers import Filing, register_number
from ..policy.model import NumberType, RegisteredNumber
from ..views import jsonable
from .runtime import PackNames, emit_json, purposes_of, run, state


@click.group("numbers")
def group() -> None:
    """Access numbers filed with the regulator (码号)."""


@group.command("add")
@click.argument("number")
@click.option("--tenant", required=True, help="The tenant filing it (it must exist).")
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    cls=PackNames,
    names=purposes_of,
    help="A purpose the number is filed for (repeatable). Default: callback.",
)
@click.option(
    "--outbound/--no-outbound", default=None, help="Filed with outbound enabled. Default: yes."
)
@click.option(
    "--inbound/--no-inbound", default=None, help="Filed with inbound enabled. Default: yes."
)
@click.option(
    "--type",
    "number_type",
    type=click.Choice([t.value for t in NumberType]),
    default=None,
    help="Default: call-centre.",
)
@click.option(
    "--filed-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="When it was filed (YYYY-MM-DD).",
)
@click.option("--filing-ref", default=None, help="The filing's reference.")
@click.option("--inactive", is_flag=True, help="Register the number as not in service.")
@click.pass_context
def add(
    ctx: click.Context,
    number: str,
    tenant: str,
    purposes: tuple[str, ...],
    outbound: bool | None,
    inbound: bool | None,
    number_type: str | None,
    filed_on: datetime | None,
    filing_ref: str | None,
    inactive: bool,
) -> None:
    """Register NUMBER for TENANT (re-adding updates the filing)."""
    cli = state(ctx)
    filing = Filing(
        number=cli.number(number),
        tenant=tenant,
        purposes=purposes or None,
        inbound=inbound,
        outbound=outbound,
        number_type=number_type,
        filing_ref=filing_ref,
        filed_on=filed_on.date() if filed_on else None,
        active=False if inactive else None,
    )

    async def _add() -> str:
        async with cli.store() as store:
            outcome, _ = await register_number(store, cli.act(), filing, vocabulary=cli.vocabulary)
            return outcome.value

    click.echo(f"{filing.number} ({tenant}): {run(_add)}")


@group.command("list")
@click.option("--tenant", default=None, help="Only this tenant's numbers.")
@click.option("--json", "as_json", is_flag=True, help="The registrations as JSON.")
@click.pass_context
def list_numbers(ctx: click.Context, tenant: str | None, as_json: bool) -> None:
    """List registered numbers."""
    cli = state(ctx)

    async def _list() -> list[RegisteredNumber]:
        async with cli.store() as store, store.transaction() as tx:
            return list(await tx.numbers.list(tenant))

    rows = run(_list)
    if as_json:
        emit_json([jsonable(r) for r in rows])
        return
    for r in rows:
        direction = ("in" if r.inbound_enabled else "") + ("+out" if r.outbound_enabled else "")
        click.echo(
            f"{r.number}  {r.tenant}  {r.number_type}  {','.join(sorted(r.purposes))}  "
            f"{direction or 'none'}  {'active' if r.active else 'inactive'}  "
            f"{r.filing_ref or '-'} {r.filed_on or ''}"
        )

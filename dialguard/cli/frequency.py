"""``dialguard frequency``: per-callee attempt counters."""

from __future__ import annotations

import click

from ..ops.frequency import reset_frequency
from .runtime import run, state


@click.group("frequency")
def group() -> None:
    """Frequency caps per callee and tenant."""


@group.command("reset")
@click.argument("callee")
@click.option("--tenant", required=True, help="Whose counters (it must exist).")
@click.option("--reason", required=True, help="Why the counters are reset (audited).")
@click.pass_context
def reset(ctx: click.Context, callee: str, tenant: str, reason: str) -> None:
    """Reset CALLEE's counters for TENANT; earlier attempts stay on record as evidence."""
    cli = state(ctx)
    number = cli.number(callee)

    async def _reset() -> None:
        async with cli.store() as store:
            await reset_frequency(store, cli.act(), number, tenant=tenant, reason=reason)

    run(_reset)
    click.echo(f"{number}: frequency counters for {tenant} reset")

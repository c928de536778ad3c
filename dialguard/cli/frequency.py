"""``dialguard frequency``: per-callee attempt counters."""

from __future__ import annotations

import click

from ..rights.pseudonyms import subject
from .runtime import run, state


@click.group("frequency")
def group() -> None:
    """Frequency caps per callee and tenant."""


@group.command("reset")
@click.argument("callee")
@click.option("--tenant", required=True)
@click.option("--reason", required=True, help="Why the counters are reset (audited).")
@click.pass_context
def reset(ctx: click.Context, callee: str, tenant: str, reason: str) -> None:
    """Reset CALLEE's counters for TENANT; earlier attempts stay on record as evidence."""
    cli = state(ctx)
    number = cli.number(callee)

    async def _reset() -> None:
        async with cli.store() as store, store.transaction() as tx:
            reset = await tx.decisions.reset_frequency(
                number, tenant, cli.clock.now(), cli.actor, reason
            )
            await tx.audit.append(
                cli.actor,
                "frequency.reset",
                subject(tx, number),
                {"tenant": tenant, "reason": reason, "counting_from": reset.at.isoformat()},
            )

    run(_reset)
    click.echo(f"{number}: frequency counters for {tenant} reset")

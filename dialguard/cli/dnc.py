"""``dialguard dnc``: do-not-call entries. An opt-out is immediate and permanent."""

from __future__ import annotations

import sys

import click

from ..dnc.national import NationalDnc
from ..ops.dnc import (
    OPTOUT_CHANNELS,
    add_dnc,
    listings,
    opt_out,
    remove_dnc,
    scope_of,
)
from ..policy.model import DncEntry
from ..storage.records import Outcome
from ..views import jsonable
from . import dnc_import, national
from .runtime import emit_json, run, state


@click.group("dnc")
def group() -> None:
    """Do-not-call lists: global, per tenant or per campaign."""


group.add_command(national.group)
group.add_command(dnc_import.command)


@group.command("add")
@click.argument("number")
@click.option("--tenant", default=None, help="Tenant scope (default: global).")
@click.option("--campaign", default=None, help="Campaign scope (needs --tenant).")
@click.option("--reason", default=None, help="Why the number is listed (kept as evidence).")
@click.option(
    "--source",
    default=None,
    help="Where the opt-out came from (callee, web, sms…). Default: admin.",
)
@click.option("--expires", default=None, help="ISO 8601 date/time the entry lapses.")
@click.pass_context
def add(
    ctx: click.Context,
    number: str,
    tenant: str | None,
    campaign: str | None,
    reason: str | None,
    source: str | None,
    expires: str | None,
) -> None:
    """Put NUMBER on the do-not-call list (takes effect for the next call)."""
    cli = state(ctx)
    e164 = cli.number(number)
    until = cli.instant(expires, "--expires") if expires else None

    async def _add() -> tuple[Outcome, DncEntry]:
        async with cli.store() as store:
            return await add_dnc(
                store,
                cli.act(),
                e164,
                tenant=tenant,
                campaign=campaign,
                reason=reason,
                source=source,
                expires=until,
            )

    outcome, entry = run(_add)
    click.echo(f"{entry.number} on the {entry.scope} do-not-call list: {outcome}")


@group.command("optout")
@click.argument("number")
@click.option(
    "--channel",
    required=True,
    type=click.Choice(OPTOUT_CHANNELS),
    help="How the callee opted out.",
)
@click.option("--tenant", default=None, help="Only this tenant's calls (default: all).")
@click.option("--reference", default=None, help="The channel's own id (SMS id, form id…).")
@click.pass_context
def optout(
    ctx: click.Context, number: str, channel: str, tenant: str | None, reference: str | None
) -> None:
    """Record NUMBER's own opt-out received through CHANNEL (as the public API does)."""
    cli = state(ctx)
    e164 = cli.number(number)

    async def _optout() -> Outcome:
        async with cli.store() as store:
            return await opt_out(
                store, cli.act(), e164, channel=channel, tenant=tenant, reference=reference
            )

    click.echo(f"{e164}: opt-out via {channel} recorded ({run(_optout)})")


@group.command("remove")
@click.argument("number")
@click.option("--tenant", default=None, help="Tenant scope (default: global).")
@click.option("--campaign", default=None, help="Campaign scope (needs --tenant).")
@click.option("--reason", required=True, help="Why the entry is removed (kept as evidence).")
@click.pass_context
def remove(
    ctx: click.Context, number: str, tenant: str | None, campaign: str | None, reason: str
) -> None:
    """Remove NUMBER's entry in the given scope; its history is kept."""
    cli = state(ctx)
    e164 = cli.number(number)
    scope = scope_of(tenant, campaign)

    async def _remove() -> int:
        async with cli.store() as store:
            return await remove_dnc(
                store, cli.act(), e164, reason=reason, tenant=tenant, campaign=campaign
            )

    if not run(_remove):
        click.echo(f"{e164} has no active {scope} entry", err=True)
        sys.exit(1)
    click.echo(f"{e164}: removed from the {scope} do-not-call list")


@group.command("check")
@click.argument("number")
@click.option(
    "--tenant", default=None, help="Only what bars this tenant's calls (default: every list)."
)
@click.option("--campaign", default=None, help="And this campaign's list (needs --tenant).")
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
@click.pass_context
def check(
    ctx: click.Context, number: str, tenant: str | None, campaign: str | None, as_json: bool
) -> int:
    """Is NUMBER listed? Without --tenant, every list it is on (global, the national
    registry, each tenant's and campaign's). Exit 0 when not listed, 1 when listed."""
    cli = state(ctx)
    e164 = cli.number(number)

    async def _check() -> tuple[DncEntry, ...]:
        national = NationalDnc.open(cli.settings.policy.national_dnc)
        try:
            async with cli.store() as store:
                return await listings(
                    store,
                    e164,
                    cli.clock.now(),
                    tenant=tenant,
                    campaign=campaign,
                    national=national,
                )
        finally:
            national.close()

    entries = run(_check)
    if as_json:
        emit_json(
            {"number": e164, "listed": bool(entries), "entries": [jsonable(e) for e in entries]}
        )
    elif entries:
        for e in entries:
            click.echo(f"{e164}: LISTED ({_scope_text(e)}) {e.reason or ''}".rstrip())
    else:
        click.echo(f"{e164}: not listed" + ("" if tenant else " anywhere"))
    return 1 if entries else 0


def _scope_text(entry: DncEntry) -> str:
    if entry.source.startswith("national:"):
        return f"national {entry.source.removeprefix('national:')}"
    if entry.campaign:
        return f"campaign {entry.tenant}/{entry.campaign}"
    return f"tenant {entry.tenant}" if entry.tenant else str(entry.scope)

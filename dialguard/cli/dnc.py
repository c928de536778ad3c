"""``dialguard dnc``: do-not-call entries. An opt-out is immediate and permanent."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from ..dnc_import import BadLine, open_numbers, read_numbers
from ..national_dnc import NationalDnc
from ..ops.dnc import (
    OPTOUT_CHANNELS,
    ImportReport,
    add_dnc,
    import_dnc,
    listings,
    opt_out,
    remove_dnc,
    scope_of,
)
from ..policy.model import DncEntry
from ..storage.records import Outcome
from ..views import jsonable
from . import national
from .runtime import emit_json, run, state


@click.group("dnc")
def group() -> None:
    """Do-not-call lists: global, per tenant or per campaign."""


group.add_command(national.group)


@group.command("add")
@click.argument("number")
@click.option("--tenant", default=None, help="Tenant scope (default: global).")
@click.option("--campaign", default=None, help="Campaign scope (needs --tenant).")
@click.option("--reason", default=None)
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
@click.option("--channel", required=True, type=click.Choice(OPTOUT_CHANNELS))
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
@click.option("--tenant", default=None)
@click.option("--campaign", default=None)
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


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", default=None, help="Tenant scope (default: global).")
@click.option("--source", default="import")
@click.option("--reason", default=None)
@click.pass_context
def import_file(
    ctx: click.Context, file: Path, tenant: str | None, source: str, reason: str | None
) -> int:
    """Import FILE: one number per line, CSV with a `number` column, or the US registry's
    flat file (`AAA,PPPPPPP` lines)."""
    cli = state(ctx)

    def bad_line(item: BadLine) -> None:
        click.echo(f"{file}:{item.line_no}: {item.reason}: {item.text!r}", err=True)

    size = file.stat().st_size
    region = cli.settings.numbers.default_region

    async def _import(progress: Progress | None) -> ImportReport:
        task = progress.add_task("importing", total=size) if progress else None
        async with cli.store() as store:
            with open_numbers(file) as handle:

                def advance() -> None:
                    if progress is not None and task is not None:
                        progress.update(task, completed=handle.buffer.tell())

                return await import_dnc(
                    store,
                    cli.act(),
                    read_numbers(handle, file, region),
                    label=file.name,
                    tenant=tenant,
                    source=source,
                    reason=reason,
                    on_bad_line=bad_line,
                    on_batch=advance,
                )

    if sys.stderr.isatty():
        columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            report = run(lambda: _import(progress))
    else:
        report = run(lambda: _import(None))
    click.echo(
        f"imported {report.inserted} new, {report.unchanged} already listed, "
        f"{report.bad_lines} bad lines"
    )
    return 1 if report.bad_lines else 0

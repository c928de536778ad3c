"""``dialguard dnc``: do-not-call entries. An opt-out is immediate and permanent."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from ..clock import parse_instant
from ..dnc_import import BadLine, ImportTarget, import_dnc
from ..policy.model import DncEntry, DncScope
from ..rights.pseudonyms import masked, subject
from ..views import jsonable
from . import national
from .runtime import emit_json, run, state


def _scope(tenant: str | None, campaign: str | None) -> DncScope:
    if campaign:
        return DncScope.CAMPAIGN
    return DncScope.TENANT if tenant else DncScope.GLOBAL


@click.group("dnc")
def group() -> None:
    """Do-not-call lists: global, per tenant or per campaign."""


group.add_command(national.group)


@group.command("add")
@click.argument("number")
@click.option("--tenant", default=None, help="Tenant scope (default: global).")
@click.option("--campaign", default=None, help="Campaign scope (needs --tenant).")
@click.option("--reason", default=None)
@click.option("--source", default="admin", help="Where the opt-out came from (callee, web, sms…).")
@click.option("--expires", default=None, help="ISO 8601 date/time the entry lapses.")
@click.pass_context
def add(
    ctx: click.Context,
    number: str,
    tenant: str | None,
    campaign: str | None,
    reason: str | None,
    source: str,
    expires: str | None,
) -> None:
    """Put NUMBER on the do-not-call list (takes effect for the next call)."""
    cli = state(ctx)
    if campaign and not tenant:
        raise click.UsageError("--campaign needs --tenant")
    entry = DncEntry(
        number=cli.number(number),
        scope=_scope(tenant, campaign),
        tenant=tenant,
        campaign=campaign,
        source=source,
        reason=reason,
        added_at=cli.clock.now(),
        expires_at=parse_instant(expires, "--expires") if expires else None,
        added_by=cli.actor,
    )

    async def _add() -> str:
        async with cli.store() as store, store.transaction() as tx:
            if tenant:
                await tx.tenants.ensure(tenant)
            outcome = await tx.dnc.add(entry)
            await tx.audit.append(
                cli.actor,
                "dnc.add",
                subject(tx, entry.number),
                {
                    **masked({"after": entry, "outcome": outcome}),
                    "evidence": await tx.evidence.changed(),
                },
            )
            return outcome.value

    click.echo(f"{entry.number} on the {entry.scope} do-not-call list: {run(_add)}")


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
    scope = _scope(tenant, campaign)

    async def _remove() -> int:
        async with cli.store() as store, store.transaction() as tx:
            before = [
                record.entry
                for record in await tx.dnc.history(e164)
                if record.removed_at is None
                and (record.entry.scope, record.entry.tenant, record.entry.campaign)
                == (scope, tenant, campaign)
            ]
            removed = await tx.dnc.remove(
                e164,
                scope=scope,
                tenant=tenant,
                campaign=campaign,
                reason=reason,
                by=cli.actor,
                at=cli.clock.now(),
            )
            if removed:
                await tx.audit.append(
                    cli.actor,
                    "dnc.remove",
                    subject(tx, e164),
                    {
                        **masked({"before": before, "after": None, "reason": reason}),
                        "evidence": await tx.evidence.changed(),
                    },
                )
            return removed

    removed = run(_remove)
    if not removed:
        click.echo(f"{e164} has no active {scope} entry", err=True)
        sys.exit(1)
    click.echo(f"{e164}: removed from the {scope} do-not-call list")


@group.command("check")
@click.argument("number")
@click.option("--tenant", default=None)
@click.option("--campaign", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def check(
    ctx: click.Context, number: str, tenant: str | None, campaign: str | None, as_json: bool
) -> int:
    """Is NUMBER blocked? Exit 0 when not listed, 1 when listed."""
    cli = state(ctx)
    e164 = cli.number(number)

    async def _check() -> list[DncEntry]:
        async with cli.store() as store, store.transaction() as tx:
            return list(await tx.dnc.matching(e164, tenant or "", campaign, cli.clock.now()))

    entries = run(_check)
    if as_json:
        emit_json(
            {"number": e164, "listed": bool(entries), "entries": [jsonable(e) for e in entries]}
        )
    elif entries:
        for e in entries:
            click.echo(
                f"{e164}: LISTED ({e.scope}{' ' + e.tenant if e.tenant else ''}) {e.reason or ''}"
            )
    else:
        click.echo(f"{e164}: not listed")
    return 1 if entries else 0


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
    target = ImportTarget(_scope(tenant, None), tenant, source, reason, cli.actor)

    def bad_line(item: BadLine) -> None:
        click.echo(f"{file}:{item.line_no}: {item.reason}: {item.text!r}", err=True)

    size = file.stat().st_size

    async def _import(progress: Progress | None) -> tuple[int, int, int]:
        task = progress.add_task("importing", total=size) if progress else None

        def advance(done: int) -> None:
            if progress is not None and task is not None:
                progress.update(task, completed=done)

        now: datetime = cli.clock.now()
        async with cli.store() as store:
            if tenant:
                async with store.transaction() as tx:
                    await tx.tenants.ensure(tenant)
            counts, bad = await import_dnc(
                store, file, target, cli.settings.numbers.default_region, now, bad_line, advance
            )
            async with store.transaction() as tx:
                await tx.audit.append(
                    cli.actor,
                    "dnc.import",
                    str(file),
                    {
                        "inserted": counts.inserted,
                        "unchanged": counts.already_present,
                        "bad_lines": bad,
                        "tenant": tenant,
                        "source": source,
                    },
                )
        return counts.inserted, counts.already_present, bad

    if sys.stderr.isatty():
        columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            inserted, unchanged, bad = run(lambda: _import(progress))
    else:
        inserted, unchanged, bad = run(lambda: _import(None))
    click.echo(f"imported {inserted} new, {unchanged} already listed, {bad} bad lines")
    return 1 if bad else 0

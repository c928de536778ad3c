"""``dialguard numbers``: the registry of access numbers a tenant may present, and the lifecycle
of their filings (add, end, history, report, overdue, expiring)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import click

from ..clock import parse_instant
from ..ops import numbers as ops
from ..policy.filings import FILING_ZONE, FilingChange, Overdue
from ..policy.model import NumberType, RegisteredNumber
from ..views import jsonable
from .runtime import PackNames, emit_json, purposes_of, run, state

_DAY = click.DateTime(formats=["%Y-%m-%d"])
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([dwh])\s*$")


@click.group("numbers")
def group() -> None:
    """Access numbers filed with the regulator (码号).

    E.164 numbers and China's access codes (95xxx, 96xxx, 12xxx, 100xx, 106 ports, 400/800)."""


def _effective(raw: str | None) -> datetime | date | None:
    """A day (from its start in Beijing time) or an ISO instant with its offset."""
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return parse_instant(raw, "--effective-from")


def _within(raw: str) -> timedelta:
    found = _DURATION.match(raw)
    if found is None:
        raise click.BadParameter(f"{raw!r}: expected a count and d, w or h (30d, 2w, 12h)")
    count, unit = int(found.group(1)), found.group(2)
    return (
        timedelta(days=count)
        if unit == "d"
        else timedelta(weeks=count)
        if unit == "w"
        else (timedelta(hours=count))
    )


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
    help="Default: the number class's (carrier-marketing for 106 ports), else call-centre.",
)
@click.option("--filed-on", type=_DAY, default=None, help="Day reported to the regulator.")
@click.option("--filing-ref", default=None, help="The filing's reference.")
@click.option(
    "--effective-from",
    default=None,
    help="Day (Beijing time) or ISO instant these terms take effect. Default: a change from "
    "now; a new registration from --filed-on, else as registered.",
)
@click.option("--expires-on", type=_DAY, default=None, help="Last day the filing is valid.")
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
    effective_from: str | None,
    expires_on: datetime | None,
    inactive: bool,
) -> None:
    """Register NUMBER for TENANT; re-adding records a new version of the filing. A number
    another tenant holds is refused: `numbers end` it first (a transfer is end, then add)."""
    cli = state(ctx)
    filing = ops.Filing(
        number=number,
        tenant=tenant,
        purposes=purposes or None,
        inbound=inbound,
        outbound=outbound,
        number_type=number_type,
        filing_ref=filing_ref,
        filed_on=filed_on.date() if filed_on else None,
        active=False if inactive else None,
        effective_from=_effective(effective_from),
        expires_on=expires_on.date() if expires_on else None,
    )

    async def _add() -> tuple[str, RegisteredNumber]:
        async with cli.store() as store:
            outcome, reg = await ops.register_number(
                store, cli.act(), filing, cli.book.numbering, vocabulary=cli.vocabulary
            )
            return outcome.value, reg

    outcome, reg = run(_add)
    found = cli.book.numbering.class_of(reg.number) if reg.number_class else None
    kind = f"{found.name}: {found.description}" if found else "E.164 number"
    click.echo(f"{reg.number} ({tenant}): {outcome} [{kind}; {reg.number_type}]")


@group.command("end")
@click.argument("number")
@click.option("--tenant", required=True, help="The tenant whose registration ends.")
@click.option("--filed-on", type=_DAY, default=None, help="Day the ending was reported.")
@click.pass_context
def end(ctx: click.Context, number: str, tenant: str, filed_on: datetime | None) -> None:
    """End TENANT's registration of NUMBER now; the number may then be added for another."""
    cli = state(ctx)

    async def _end() -> RegisteredNumber:
        async with cli.store() as store:
            day = filed_on.date() if filed_on else None
            return await ops.end_number(store, cli.act(), number, tenant, cli.book.numbering, day)

    ended = run(_end)
    click.echo(f"{ended.number} ({tenant}): ended")


@group.command("report")
@click.argument("change_id", type=int)
@click.option("--filed-on", type=_DAY, required=True, help="Day it was reported.")
@click.pass_context
def report(ctx: click.Context, change_id: int, filed_on: datetime) -> None:
    """Record that change CHANGE_ID (see `numbers history`) was reported to the regulator."""
    cli = state(ctx)

    async def _report() -> FilingChange:
        async with cli.store() as store:
            return await ops.report_change(store, cli.act(), change_id, filed_on.date())

    change = run(_report)
    click.echo(f"change #{change.change_id} of {change.terms.number}: reported {filed_on:%Y-%m-%d}")


def _beijing(instant: datetime | None) -> str:
    return f"{instant.astimezone(FILING_ZONE):%Y-%m-%d %H:%M}" if instant else "-"


def _terms(r: RegisteredNumber) -> str:
    direction = ("in" if r.inbound_enabled else "") + ("+out" if r.outbound_enabled else "")
    return (
        f"{r.number_type}  {','.join(sorted(r.purposes))}  {direction or 'none'}  "
        f"{'active' if r.active else 'inactive'}  ref {r.filing_ref or '-'}  "
        f"expires {r.expires_on or '-'}"
    )


@group.command("history")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="The versions as JSON.")
@click.pass_context
def history(ctx: click.Context, number: str, as_json: bool) -> None:
    """Every version of NUMBER's filings, ended registrations included (times: Beijing)."""
    cli = state(ctx)

    async def _history() -> tuple[FilingChange, ...]:
        async with cli.store() as store:
            region = cli.settings.numbers.default_region
            return await ops.number_history(store, number, cli.book.numbering, region)

    changes = run(_history)
    if as_json:
        emit_json([jsonable(c) for c in changes])
        return
    for c in changes:
        reported = c.terms.filed_on or "NOT REPORTED"
        click.echo(
            f"#{c.change_id}  {c.change.value:<7}  {c.terms.tenant}  from "
            f"{_beijing(c.terms.effective_from)}  {_terms(c.terms)}  reported {reported}  "
            f"(recorded {_beijing(c.recorded_at)} by {c.recorded_by or '-'})"
        )


@group.command("overdue")
@click.option("--tenant", default=None, help="Only this tenant's filings.")
@click.option("--json", "as_json", is_flag=True, help="The overdue changes as JSON.")
@click.pass_context
def overdue(ctx: click.Context, tenant: str | None, as_json: bool) -> None:
    """Changes to filings not reported within 10 working days (CN calendar, make-up days
    included). Exit 1 when there is any."""
    cli = state(ctx)

    async def _overdue() -> tuple[Overdue, ...]:
        async with cli.store() as store:
            calendar = cli.pack.calendar
            return await ops.overdue_changes(store, calendar, cli.clock.now(), tenant)

    found = run(_overdue)
    if as_json:
        emit_json([jsonable(o) for o in found])
    else:
        for o in found:
            how = f"reported {o.reported_on} (late)" if o.reported_on else "NOT REPORTED"
            click.echo(
                f"#{o.change.change_id}  {o.change.terms.number}  {o.change.terms.tenant}  "
                f"{o.change.change.value} on {o.changed_on}: due by {o.deadline}, {how}"
            )
    ctx.exit(1 if found else 0)


@group.command("expiring")
@click.option("--within", "within", default="30d", help="How far ahead: 30d, 2w, 12h.")
@click.option("--tenant", default=None, help="Only this tenant's registrations.")
@click.option("--json", "as_json", is_flag=True, help="The registrations as JSON.")
@click.pass_context
def expiring(ctx: click.Context, within: str, tenant: str | None, as_json: bool) -> None:
    """Registrations whose filing expires within WITHIN (or has expired): renew them."""
    cli = state(ctx)
    ahead = _within(within)

    async def _expiring() -> tuple[RegisteredNumber, ...]:
        async with cli.store() as store:
            return await ops.expiring(store, cli.clock.now(), ahead, tenant)

    rows = run(_expiring)
    if as_json:
        emit_json([jsonable(r) for r in rows])
        return
    for r in rows:
        click.echo(f"{r.number}  {r.tenant}  expires {r.expires_on}  ref {r.filing_ref or '-'}")


@group.command("list")
@click.option("--tenant", default=None, help="Only this tenant's numbers.")
@click.option("--ended", "include_ended", is_flag=True, help="Include ended registrations.")
@click.option("--json", "as_json", is_flag=True, help="The registrations as JSON.")
@click.pass_context
def list_numbers(
    ctx: click.Context, tenant: str | None, include_ended: bool, as_json: bool
) -> None:
    """List registered numbers (the latest terms of each registration)."""
    cli = state(ctx)

    async def _list() -> list[RegisteredNumber]:
        async with cli.store() as store, store.transaction() as tx:
            return list(await tx.numbers.list(tenant, include_ended=include_ended))

    rows = run(_list)
    if as_json:
        emit_json([jsonable(r) for r in rows])
        return
    for r in rows:
        click.echo(
            f"{r.number}  {r.tenant}  {r.number_class or 'e164'}  {_terms(r)}  "
            f"from {_beijing(r.effective_from)}  filed {r.filed_on or '-'}"
        )

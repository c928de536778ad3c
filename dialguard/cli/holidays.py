"""``dialguard holidays``: the statutory holiday calendar the time rules use."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from ..policy.calendar import load_calendar_file
from .runtime import emit_json, state


@click.group("holidays")
def group() -> None:
    """Statutory holiday periods and make-up working days."""


@group.command("show")
@click.option("--year", type=int, default=None, help="Default: this year.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def show(ctx: click.Context, year: int | None, as_json: bool) -> None:
    """Holiday days and make-up working days of YEAR, with where the data came from."""
    cli = state(ctx)
    calendar = cli.pack.calendar
    year = year or cli.clock.now().year
    if not calendar.covers(date(year, 1, 1)):
        covered = ", ".join(str(y) for y in sorted(calendar.years)[-3:])
        raise click.ClickException(
            f"no calendar data for {year} (latest: {covered}); set policy.calendar_file "
            "to the official calendar (see `dialguard holidays validate`)"
        )
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    holidays = [
        (d, calendar.holidays[d]) for d in days if d.year == year and d in calendar.holidays
    ]
    workdays = sorted(d for d in calendar.workdays if d.year == year)
    if as_json:
        emit_json(
            {
                "year": year,
                "source": calendar.sources.get(year),
                "holidays": [{"date": d.isoformat(), "name": n} for d, n in holidays],
                "workdays": [d.isoformat() for d in workdays],
            }
        )
        return
    click.echo(f"{year} (source: {calendar.sources.get(year)})")
    lines = [(day, f"holiday  {name}") for day, name in holidays]
    lines += [(day, "make-up working day") for day in workdays]
    for day, what in sorted(lines):  # one list in date order, as a calendar is read
        click.echo(f"  {day} {day:%a}  {what}")


@group.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check an official calendar FILE before pointing policy.calendar_file at it."""
    calendar = load_calendar_file(file)
    for year in sorted(calendar.years):
        count = sum(1 for d in calendar.holidays if d.year == year)
        workdays = sum(1 for d in calendar.workdays if d.year == year)
        click.echo(f"{year}: {count} holiday days, {workdays} make-up working days")

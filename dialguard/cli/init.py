"""``dialguard init``: create or upgrade the database schema."""

from __future__ import annotations

import click

from ..storage.migrate import init_database
from .runtime import run, state


@click.command("init")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Create the database, or upgrade it to the current schema. Safe to re-run."""
    settings = state(ctx).settings
    revision = run(lambda: init_database(settings))
    click.echo(f"database ready at schema revision {revision}")

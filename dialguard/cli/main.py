"""``dialguard``: the admin CLI. Every option also reads ``DIALGUARD_<COMMAND>_<OPTION>`` from
the environment; every setting can be given as ``--set section.key=value``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import (
    audit,
    check,
    consent,
    decisions,
    dialplan,
    dnc,
    dsr,
    frequency,
    holidays,
    init,
    keys,
    numbers,
    policy,
    recordings,
    retention,
    scripts,
    serve,
    simulate,
    tenants,
    text,
    tokens,
)
from .runtime import EXIT_BAD_INPUT, CliState


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DIALGUARD_CONFIG",
    help="TOML config file (default /etc/dialguard/dialguard.toml if present).",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override one setting, e.g. --set database.url=sqlite+aiosqlite:///dg.db",
)
@click.option("--actor", envvar="DIALGUARD_ACTOR", help="Who is acting, for the audit log.")
@click.pass_context
def cli(
    ctx: click.Context, config: Path | None, assignments: tuple[str, ...], actor: str | None
) -> None:
    """dialguard: compliance gate for Asterisk and FreeSWITCH call centres."""
    ctx.obj = CliState(config, assignments, actor)


for command in (
    init.command,
    tenants.group,
    numbers.group,
    dnc.group,
    consent.group,
    frequency.group,
    check.command,
    decisions.group,
    holidays.group,
    dialplan.group,
    policy.group,
    scripts.group,
    text.group,
    recordings.group,
    retention.group,
    keys.group,
    audit.group,
    dsr.group,
    tokens.group,
    serve.command,
    simulate.command,
):
    cli.add_command(command)


def main() -> None:
    try:
        code = cli.main(
            prog_name="dialguard", auto_envvar_prefix="DIALGUARD", standalone_mode=False
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ValueError as exc:
        # Library errors for bad input (invalid numbers, bad config keys, bad files) are
        # ValueErrors whose message names what was wrong.
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(code if isinstance(code, int) else 0)

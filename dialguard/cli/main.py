"""``dialguard``: the admin CLI. Every option also reads ``DIALGUARD_<COMMAND>_<OPTION>`` from
the environment; every setting can be given as ``--set section.key=value``.

Start-up: a command's module is imported only when that command runs (:class:`LazyGroup`), and
``dialguard --help`` lists the commands from :data:`COMMANDS` without importing any of them, so
neither loads SQLAlchemy, aiohttp or phonenumbers' geocoder unless the command needs them.

To add a top-level command: write ``dialguard/cli/<module>.py`` with a click command or group,
and add one line to :data:`COMMANDS` (name, module, attribute, the first sentence of its help);
``tests/unit/test_cli_startup.py`` checks the line matches the command.
"""

from __future__ import annotations

import errno
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import click

from ..config import setting_naming
from .runtime import EXIT_BAD_INPUT, CliState


class Entry(NamedTuple):
    module: str
    """Module under ``dialguard.cli``."""
    attribute: str
    """The click command or group in it."""
    help: str
    """Its short help, as ``dialguard --help`` lists it."""


COMMANDS: dict[str, Entry] = {
    "audit": Entry("audit", "group", "Audit log: tail it, checkpoint it, verify it."),
    "check": Entry(
        "check",
        "command",
        "Would this call be allowed? A dry run: records nothing and counts towards no cap (a "
        "dialer that must be counted uses POST /v1/decisions).",
    ),
    "consent": Entry("consent", "group", "Consent records per callee, tenant and purpose."),
    "decisions": Entry(
        "decisions", "group", "Recorded decisions (evidence of every call attempt)."
    ),
    "dialplan": Entry("dialplan", "group", "Dialplan snippets for Asterisk and FreeSWITCH."),
    "dnc": Entry("dnc", "group", "Do-not-call lists: global, per tenant or per campaign."),
    "dsr": Entry("dsr", "group", "Data-subject requests: access (export), correction, erasure."),
    "frequency": Entry("frequency", "group", "Frequency caps per callee and tenant."),
    "holidays": Entry("holidays", "group", "Statutory holiday periods and make-up working days."),
    "init": Entry("init", "command", "Create the database, or upgrade it to the current schema."),
    "keys": Entry("keys", "group", "Master keys of the recording vault."),
    "numbers": Entry("numbers", "group", "Access numbers filed with the regulator (码号)."),
    "policy": Entry("policy", "group", "Rule packs: which apply to a call, and why."),
    "recordings": Entry("recordings", "group", "Call recordings in the encrypted vault."),
    "report": Entry("report", "group", "Signed compliance reports for a regulator."),
    "retention": Entry("retention", "group", "Recording retention."),
    "scripts": Entry("scripts", "group", "Campaign scripts and their banned-phrase check."),
    "serve": Entry("serve", "command", "Run the gate until SIGTERM or SIGINT."),
    "simulate": Entry(
        "simulate",
        "command",
        "Place a test call through the running gate over FastAGI and print what the PBX "
        "would be told.",
    ),
    "status": Entry(
        "status", "command", "Ask the running gate whether it is healthy (GET /health)."
    ),
    "tenants": Entry("tenants", "group", "Tenants and their industry."),
    "text": Entry(
        "text", "group", "Banned-phrase checks of texts (script lines, chat messages, SMS)."
    ),
    "tokens": Entry("tokens", "group", "API tokens, one role each: admin, operator, auditor, dsr."),
}

_CONFIG_HELP = "TOML config file (default /etc/dialguard/dialguard.toml if present)."
_SET_HELP = "Override one setting, e.g. --set database.url=sqlite+aiosqlite:///dg.db"
_ACTOR_HELP = "Who is acting, for the audit log."


def load_command(name: str) -> click.Command:
    """Import the module of the top-level command ``name`` and return its command, with the
    shared options (:func:`_with_shared_options`) added."""
    entry = COMMANDS[name]
    command = getattr(importlib.import_module(f"{__package__}.{entry.module}"), entry.attribute)
    assert isinstance(command, click.Command), f"{entry} is not a click command"
    _with_shared_options(command)
    return command


class EnvironmentProblem(click.ClickException):
    """What the machine lacks (a database that cannot be opened, a file that cannot be read or
    written): one line naming it and what to do, exit status 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class LazyGroup(click.Group):
    """A group whose commands are the :data:`COMMANDS` table, each imported when invoked."""

    def invoke(self, ctx: click.Context) -> Any:
        from ..storage.errors import StorageError

        try:
            return super().invoke(ctx)
        except StorageError as exc:
            raise EnvironmentProblem(str(exc)) from exc
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise EnvironmentProblem(os_problem(exc, ctx.find_object(CliState))) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            # a stand-in command shortens the help as click would, without importing the real one
            (name, click.Command(name, help=COMMANDS[name].help).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def option_variables() -> set[str]:
    """Every ``DIALGUARD_<COMMAND>_<SUBCOMMAND>_<OPTION>`` variable click reads (it imports every
    command: asked only when the environment has a ``DIALGUARD_*`` name no setting has)."""
    names: set[str] = set()

    def walk(command: click.Command, prefix: str) -> None:
        for param in command.params:
            if isinstance(param, click.Option) and param.allow_from_autoenv and param.name:
                names.add(f"{prefix}_{param.name.upper()}")
            if isinstance(param.envvar, str):
                names.add(param.envvar)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{prefix}_{name.upper().replace('-', '_')}")

    for name in COMMANDS:
        walk(load_command(name), f"DIALGUARD_{name.upper().replace('-', '_')}")
    return names


def os_problem(exc: OSError, cli_state: CliState | None) -> str:
    """``exc`` as one line: the file, the setting naming it (when one does), why, what to do."""
    reason = exc.strerror or str(exc)
    if not exc.filename:
        return reason
    path = str(exc.filename)
    settings = None if cli_state is None else cli_state.__dict__.get("settings")
    setting = None if settings is None else setting_naming(settings, path)
    where = f"{path} ({setting})" if setting else path
    elsewhere = f"set {setting} to another path" if setting else "use another path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"run as a user who may use it, or {elsewhere}"
    elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
        hint = f"create its directory first (install -d {Path(path).parent}), or {elsewhere}"
    else:
        hint = elsewhere
    return f"{where}: {reason}; {hint}"


def _late_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        _state_for_update(ctx).config_path = value


def _late_set(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> None:
    if value:
        cli_state = _state_for_update(ctx)
        cli_state.assignments = (*cli_state.assignments, *value)


def _late_actor(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _state_for_update(ctx).actor_name = value


def _state_for_update(ctx: click.Context) -> CliState:
    cli_state = ctx.find_object(CliState)
    if cli_state is None:  # a command invoked on its own, not under `cli`
        cli_state = ctx.obj = CliState(None, ())
    # A group's callback may already have read the settings: they are read again with these.
    for cached in ("settings", "book"):
        cli_state.__dict__.pop(cached, None)
    return cli_state


def _shared_options() -> list[click.Option]:
    """``--config``, ``--set`` and ``--actor`` accepted after the subcommand too (``dialguard
    serve --set api.port=8081``); given in both places, the later one wins."""
    return [
        click.Option(
            ["--config"],
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            is_eager=True,
            callback=_late_config,
            allow_from_autoenv=False,
            help=_CONFIG_HELP,
        ),
        click.Option(
            ["--set", "late_assignments"],
            multiple=True,
            metavar="SECTION.KEY=VALUE",
            expose_value=False,
            is_eager=True,
            callback=_late_set,
            allow_from_autoenv=False,
            help=_SET_HELP,
        ),
        click.Option(
            ["--actor", "late_actor"],
            expose_value=False,
            is_eager=True,
            callback=_late_actor,
            allow_from_autoenv=False,
            help=_ACTOR_HELP,
        ),
    ]


def _with_shared_options(command: click.Command) -> None:
    taken = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for option in _shared_options():
        if not taken.intersection(option.opts):
            command.params.append(option)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_shared_options(sub)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(
    package_name="dialguard", prog_name="dialguard", message="%(prog)s %(version)s"
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DIALGUARD_CONFIG",
    help=_CONFIG_HELP,
)
@click.option("--set", "assignments", multiple=True, metavar="SECTION.KEY=VALUE", help=_SET_HELP)
@click.option("--actor", envvar="DIALGUARD_ACTOR", help=_ACTOR_HELP)
@click.pass_context
def cli(
    ctx: click.Context, config: Path | None, assignments: tuple[str, ...], actor: str | None
) -> None:
    """dialguard: compliance gate for Asterisk and FreeSWITCH call centres."""
    ctx.obj = CliState(config, assignments, actor, option_variables=option_variables)


def main(args: Sequence[str] | None = None) -> None:
    """The ``dialguard`` entry point: run the command ``args`` names (default ``sys.argv[1:]``)
    and exit with its status."""
    try:
        code: Any = cli.main(
            args, prog_name="dialguard", auto_envvar_prefix="DIALGUARD", standalone_mode=False
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

"""Every command and every option of the CLI says what it is for in ``--help``."""

from __future__ import annotations

from collections.abc import Iterator

import click

from dialguard.cli.main import cli


def _commands(group: click.Group, path: str = "dialguard") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group``: asked of the group (``cli`` loads its commands on demand;
    its ``commands`` mapping is empty)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        where = f"{path} {name}"
        yield where, command
        if isinstance(command, click.Group):
            yield from _commands(command, where)


def test_every_command_is_walked() -> None:
    walked = {where for where, _ in _commands(cli)}
    assert {"dialguard check", "dialguard dnc national build", "dialguard tokens list"} <= walked


def test_every_command_and_option_has_help() -> None:
    missing = [where for where, command in _commands(cli) if not (command.help or "").strip()]
    missing += [
        f"{where} {param.opts[0]}"
        for where, command in _commands(cli)
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    missing += [f"dialguard {p.opts[0]}" for p in cli.params if isinstance(p, click.Option)
                and not (p.help or "").strip()]  # fmt: skip
    assert missing == []

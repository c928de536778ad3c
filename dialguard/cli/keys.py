"""``dialguard keys``: the master keys of the recording vault (the keyring file)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..ops.keys import init_keyring, rotate_keys
from ..recording.rotation import RotationReport
from ..recording.vault import open_vault
from ..storage.store import Store
from .recordings import run_on_store
from .runtime import CliState, run, state


def keyring_created_message(path: Path, key_id: str) -> str:
    return (
        f"recording keyring created at {path} (master key {key_id}); back it up: "
        "recordings cannot be decrypted without it"
    )


@click.group("keys")
def group() -> None:
    """Master keys of the recording vault."""


@group.command("init")
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the keyring (recording.keyring_file) with a first master key. Refuses to
    overwrite an existing one, which would make every recording under it unreadable."""
    cli = state(ctx)
    path = Path(cli.settings.recording.keyring_file)

    async def _init() -> str:
        async with cli.store() as store:
            return await init_keyring(store, cli.act(), path)

    click.echo(keyring_created_message(path, run(_init)))


@group.command("rotate")
@click.option(
    "--resume",
    is_flag=True,
    help="Finish an interrupted rotation: rewrap under the current key, add no new key.",
)
@click.pass_context
def rotate(ctx: click.Context, resume: bool) -> None:
    """Add a new current master key and rewrap every recording's data key under it (the audio
    is not re-encrypted). Old keys stay in the keyring. Exit 1 if some recording could not be
    rewrapped (it stays readable under its old key; fix it and run with --resume)."""
    cli = state(ctx)
    report = _rotate(cli, resume)
    click.echo(
        f"master key {report.key_id}: {report.rewrapped} rewrapped, "
        f"{report.already_current} already under it"
    )
    problems = [f"{i} (vault file missing)" for i in report.missing]
    problems += [f"{i} ({error})" for i, error in report.failed]
    if problems:
        click.echo(f"error: not rewrapped: {', '.join(problems)}", err=True)
        sys.exit(1)


def _rotate(cli: CliState, resume: bool) -> RotationReport:
    path = Path(cli.settings.recording.keyring_file)
    vault = open_vault(cli.settings.recording)  # fails on a missing or bad keyring first

    async def _run(store: Store) -> RotationReport:
        return await rotate_keys(store, cli.act(), vault, path, resume=resume)

    result: RotationReport = run_on_store(cli, _run)
    return result

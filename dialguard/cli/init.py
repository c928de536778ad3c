"""``dialguard init``: create or upgrade the database schema, create the subject-hash key and
the audit signing key if they do not exist, sign a checkpoint of the audit log (so a gate
started on an upgraded log resumes from it rather than reading the whole log on its event loop),
and create the recording keyring when recording is enabled and it does not exist yet."""

from __future__ import annotations

from pathlib import Path

import click

from ..audit.checkpoint import Checkpoint
from ..audit.service import write_checkpoint
from ..audit.writer import AuditChainBroken
from ..config import FOLLOW_DATABASE, Settings, database_directory
from ..ops.keys import init_keyring, init_signing_key
from ..storage.migrate import init_database
from ..storage.subject_key import SubjectKey
from .keys import keyring_created_message
from .runtime import CliState, run, state


def _where_keys_go(settings: Settings) -> None:
    """Say so when the keys follow the database (no config file): the paths differ from the
    documented defaults, and the operator should know what to back up together."""
    directory = database_directory(settings)
    beside = [
        dotted
        for dotted in FOLLOW_DATABASE
        if dotted.endswith("_file") and Path(_value(settings, dotted)).parent == directory
    ]
    if directory is not None and beside:
        click.echo(
            f"no config file: keys and checkpoints are kept beside the database in {directory} "
            f"(set {', '.join(beside)} to keep them elsewhere)"
        )


def _value(settings: Settings, dotted: str) -> str:
    section, _, key = dotted.partition(".")
    return str(getattr(getattr(settings, section), key))


def _evidence_keys(cli: CliState) -> None:
    subject_path = Path(cli.settings.dsr.hash_key_file)
    if not subject_path.exists():
        SubjectKey.create(subject_path)
        click.echo(
            f"subject hash key created at {subject_path}; back it up with the database and give "
            "every node the same file: erased people's opt-outs are matched with it"
        )
    signing_path = Path(cli.settings.audit.signing_key_file)
    if signing_path.exists():
        return

    async def _signing() -> str:
        async with cli.store() as store:
            return (await init_signing_key(store, cli.act(), signing_path)).key_id

    key_id = run(_signing)
    click.echo(f"audit signing key {key_id} created at {signing_path}")


def _checkpoint(cli: CliState) -> None:
    async def _sign() -> Checkpoint:
        async with cli.store() as store:
            return await write_checkpoint(store, cli.settings, now=cli.clock.now())

    try:
        written = run(_sign)
    except AuditChainBroken as exc:
        click.echo(
            f"warning: no audit checkpoint signed: {exc}; run `dialguard audit verify --full`",
            err=True,
        )
        return
    click.echo(f"audit checkpoint of {written.tree_size} entries signed")


@click.command("init")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Create the database, or upgrade it to the current schema. Safe to re-run."""
    cli = state(ctx)
    settings = cli.settings
    revision = run(lambda: init_database(settings))
    click.echo(f"database ready at schema revision {revision}")
    _where_keys_go(settings)
    _evidence_keys(cli)
    _checkpoint(cli)
    if not settings.recording.enabled:
        return
    path = Path(settings.recording.keyring_file)
    if path.exists():
        click.echo(f"recording keyring present at {path}")
        return

    async def _keyring() -> str:
        async with cli.store() as store:
            return await init_keyring(store, cli.act(), path)

    click.echo(keyring_created_message(path, run(_keyring)))

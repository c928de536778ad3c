"""``dialguard init``: create or upgrade the database schema, create the subject-hash key and
the audit signing key if they do not exist, and the recording keyring when recording is enabled
and it does not exist yet."""

from __future__ import annotations

from pathlib import Path

import click

from ..ops.keys import init_keyring, init_signing_key
from ..rights.subject_key import SubjectKey
from ..storage.migrate import init_database
from .keys import keyring_created_message
from .runtime import CliState, run, state


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


@click.command("init")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Create the database, or upgrade it to the current schema. Safe to re-run."""
    cli = state(ctx)
    settings = cli.settings
    revision = run(lambda: init_database(settings))
    click.echo(f"database ready at schema revision {revision}")
    _evidence_keys(cli)
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

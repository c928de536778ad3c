"""``dialguard audit``: the tamper-evident log of decisions and admin actions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ..audit import service
from ..audit.checkpoint import Checkpoint, SigningKey, public_pem
from ..audit.verify import Progress as VerifyProgress
from ..audit.verify import VerifyReport
from ..ops.keys import init_signing_key
from ..views import jsonable
from .runtime import emit_json, run, state

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group("audit")
def group() -> None:
    """Audit log: tail it, checkpoint it, verify it."""


@group.command("init-key")
@click.pass_context
def init_key(ctx: click.Context) -> None:
    """Create the Ed25519 checkpoint signing key (audit.signing_key_file)."""
    cli = state(ctx)
    path = Path(cli.settings.audit.signing_key_file)

    async def _init() -> SigningKey:
        async with cli.store() as store:
            return await init_signing_key(store, cli.act(), path)

    key = run(_init)
    click.echo(f"signing key {key.key_id} created at {cli.settings.audit.signing_key_file}")
    click.echo("give auditors this public key (dialguard audit public-key prints it again):")
    click.echo(public_pem(key.public), nl=False)


@group.command("public-key")
@click.pass_context
def public_key(ctx: click.Context) -> None:
    """Print the signing key's public half (PEM), for `audit verify --public-key`."""
    key = SigningKey.load(Path(state(ctx).settings.audit.signing_key_file))
    click.echo(public_pem(key.public), nl=False)


@group.command("checkpoint")
@click.pass_context
def checkpoint(ctx: click.Context) -> None:
    """Sign a checkpoint of the log now and append it to audit.checkpoint_file."""
    cli = state(ctx)

    async def _checkpoint() -> Checkpoint:
        async with cli.store() as store:
            return await service.write_checkpoint(store, cli.settings, now=cli.clock.now())

    written = run(_checkpoint)
    click.echo(
        f"checkpoint of {written.tree_size} entries, root {written.root_hash}, "
        f"key {written.key_id} → {cli.settings.audit.checkpoint_file}"
    )


@group.command("verify")
@click.option(
    "--checkpoint", "checkpoint_file", type=_FILE, help="Checkpoint file to check against."
)
@click.option(
    "--public-key",
    "public_key_file",
    type=_FILE,
    help="PEM public key (default: the signing key's).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Re-read the whole log and every row (default: from the last verified checkpoint).",
)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def verify(
    ctx: click.Context,
    checkpoint_file: Path | None,
    public_key_file: Path | None,
    full: bool,
    as_json: bool,
) -> None:
    """Recompute every hash, link, Merkle root and signature, and cross-check the rows the
    entries vouch for; exit 1 naming each bad entry and row. Runs in a process of its own."""
    cli = state(ctx)

    async def _verify(progress: Progress | None) -> VerifyReport:
        tasks: dict[str, TaskID] = {}

        def show(step: VerifyProgress) -> None:
            if progress is None:
                return
            if step.phase not in tasks:
                tasks[step.phase] = progress.add_task(step.phase, total=step.total)
            progress.update(tasks[step.phase], completed=step.done, total=step.total)

        return await service.verify(
            cli.settings,
            checkpoint_file=checkpoint_file,
            public_key_file=public_key_file,
            full=full,
            on_progress=show,
        )

    if sys.stderr.isatty() and not as_json:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, transient=True) as progress:
            report = run(lambda: _verify(progress))
    else:
        report = run(lambda: _verify(None))
    if as_json:
        emit_json({**jsonable(report), "ok": report.ok})
    else:
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        for problem in report.problems:
            click.echo(f"BAD  {problem.message}")
        click.echo(
            f"{'OK' if report.ok else 'FAILED'}: {report.entries} entries (read from "
            f"{report.checked_from}), {report.rows_checked} rows, "
            f"{report.checkpoints_checked} checkpoint(s), root {report.root_hash}"
        )
    sys.exit(0 if report.ok else 1)


@group.command("tail")
@click.option("-n", "count", default=20, type=click.IntRange(1, 10_000), help="How many entries.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def tail(ctx: click.Context, count: int, as_json: bool) -> None:
    """The latest entries, oldest first."""
    cli = state(ctx)

    async def _tail() -> list[dict[str, object]]:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            return [jsonable(entry) for entry in await tx.audit.tail(count)]

    entries = run(_tail)
    if as_json:
        emit_json(entries)
        return
    for e in entries:
        click.echo(
            f"{e['seq']:>8}  {e['at']}  {e['actor']}  {e['action']}  {e['subject']}  "
            f"{json.dumps(e['detail'], ensure_ascii=False, sort_keys=True)}"
        )

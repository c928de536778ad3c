"""``dialguard retention sweep``: delete the recordings whose retention has ended and that are
not on legal hold — and nothing else. Each deletion is audited in its own transaction."""

from __future__ import annotations

import sys

import click

from ..ops.recordings import sweep as sweep_recordings
from ..recording import retention
from ..recording.vault import open_vault
from ..storage.store import Store
from ..views import jsonable
from .recordings import run_on_store
from .runtime import emit_json, fail, state


@click.group("retention")
def group() -> None:
    """Recording retention."""


@group.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def sweep(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Delete every recording past its retain-until that is not on hold (exit 1 if some could
    not be deleted). The metadata rows stay as tombstones."""
    cli = state(ctx)
    if cli.clock.frozen and not dry_run:
        fail("DIALGUARD_NOW is set: a real sweep runs on the real clock (use --dry-run to preview)")
    vault = open_vault(cli.settings.recording)

    async def _sweep(store: Store) -> retention.SweepReport:
        return await sweep_recordings(store, cli.act(), vault, dry_run=dry_run)

    report: retention.SweepReport = run_on_store(cli, _sweep)
    if as_json:
        emit_json(jsonable(report))
    else:
        verb = "would delete" if dry_run else "deleted"
        for d in report.deletions:
            gone = " (file already gone)" if d.file_missing else ""
            click.echo(
                f"{verb} {d.recording_id} {d.name} ({d.tenant}), retained until "
                f"{d.retain_until.isoformat()}{gone}"
            )
        click.echo(f"{len(report.deletions)} {verb} at {report.now.isoformat()}")
    for failure in report.failures:
        click.echo(f"error: recording {failure.recording_id}: {failure.error}", err=True)
    if report.failures:
        sys.exit(1)

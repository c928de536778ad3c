"""``dialguard dnc import``: a list file onto the global do-not-call list or a tenant's.

Written in audited chunks (:func:`dialguard.ops.dnc.import_dnc`): each chunk of
:data:`~dialguard.ops.dnc.IMPORT_BATCH` entries is one transaction with its own audit entry
naming the file, the chunk's line range and counts, so whenever the import stops every row it
kept is accounted for. Ctrl-C finishes the chunk in flight and says what was kept; importing the
same file again adds the rest (numbers already listed are left as they are).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from ..dnc.importer import BadLine, open_numbers, read_numbers
from ..ops.dnc import ImportInterrupted, ImportReport, import_dnc
from .runtime import CliState, fail, run, state

PROGRESS_EVERY_S = 10.0
"""Without a terminal (cron, ssh without a pty), a progress line at most this often."""
EXIT_INTERRUPTED = 130


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", default=None, help="Tenant scope (default: global).")
@click.option("--source", default="import", help="Where the list came from (kept per entry).")
@click.option("--reason", default=None, help="Why these numbers are listed (kept per entry).")
@click.option(
    "--dry-run", is_flag=True, help="Read and check FILE, report its bad lines; import nothing."
)
@click.option(
    "--max-bad-lines",
    type=click.IntRange(0),
    default=None,
    help="Import nothing when FILE has more bad lines than this. Default: no limit.",
)
@click.pass_context
def command(
    ctx: click.Context,
    file: Path,
    tenant: str | None,
    source: str,
    reason: str | None,
    dry_run: bool,
    max_bad_lines: int | None,
) -> int:
    """Import FILE: one number per line, CSV with a `number` column, or the US registry's
    flat file (`AAA,PPPPPPP` lines). UTF-8 text; exit 1 when some lines were bad."""
    cli = state(ctx)

    def bad_line(item: BadLine) -> None:
        click.echo(f"{file}:{item.line_no}: {item.reason}: {item.text!r}", err=True)

    if dry_run or max_bad_lines is not None:
        good, bad = _tally(cli, file, bad_line)
        if dry_run:
            click.echo(f"dry run: {good} numbers, {bad} bad lines; nothing imported")
            return 1 if bad else 0
        if max_bad_lines is not None and bad > max_bad_lines:
            fail(f"{file}: {bad} bad lines, more than --max-bad-lines {max_bad_lines}; "
                 "nothing imported")  # fmt: skip

        def bad_line(item: BadLine) -> None:  # already reported by the tally
            pass

    try:
        report = _import(cli, file, tenant, source, reason, bad_line)
    except ImportInterrupted as stopped:
        click.echo(
            f"{file}: {stopped}; nothing else was written. Import the file again to add the "
            "rest (numbers already listed are left as they are).",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo(f"{file}: interrupted; each chunk kept has its dnc.import.batch entry", err=True)
        sys.exit(EXIT_INTERRUPTED)
    click.echo(
        f"imported {report.inserted} new, {report.unchanged} already listed, "
        f"{report.bad_lines} bad lines"
    )
    return 1 if report.bad_lines else 0


def _tally(cli: CliState, file: Path, on_bad: Callable[[BadLine], None]) -> tuple[int, int]:
    """Good numbers and bad lines in ``file`` (bad ones reported), reading it once."""
    good = bad = 0
    with open_numbers(file) as handle:
        for item in read_numbers(handle, file, cli.settings.numbers.default_region):
            if isinstance(item, BadLine):
                bad += 1
                on_bad(item)
            else:
                good += 1
    return good, bad


def _import(
    cli: CliState,
    file: Path,
    tenant: str | None,
    source: str,
    reason: str | None,
    bad_line: Callable[[BadLine], None],
) -> ImportReport:
    size = file.stat().st_size
    started = time.monotonic()
    last = [float("-inf")]

    async def _run(progress: Progress | None) -> ImportReport:
        task = progress.add_task("importing", total=size) if progress else None
        async with cli.store() as store:
            with open_numbers(file) as handle:

                def advance(so_far: ImportReport) -> None:
                    if progress is not None and task is not None:
                        progress.update(task, completed=handle.buffer.tell())
                        return
                    now = time.monotonic()
                    if now - last[0] >= PROGRESS_EVERY_S:
                        last[0] = now
                        click.echo(_progress_line(file, so_far, now - started), err=True)

                return await import_dnc(
                    store,
                    cli.act(),
                    read_numbers(handle, file, cli.settings.numbers.default_region),
                    label=file.name,
                    tenant=tenant,
                    source=source,
                    reason=reason,
                    on_bad_line=bad_line,
                    on_batch=advance,
                )

    if sys.stderr.isatty():
        columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            return run(lambda: _run(progress))
    return run(lambda: _run(None))


def _progress_line(file: Path, so_far: ImportReport, elapsed: float) -> str:
    return (
        f"{file}: up to line {so_far.last_line}: {so_far.inserted} new, {so_far.unchanged} "
        f"already listed, {so_far.bad_lines} bad lines ({so_far.batches} batches, "
        f"{elapsed:.0f} s)"
    )

"""``dialguard dnc national``: the memory-mapped national do-not-call index the gate reads
(``policy.national_dnc``). Builds and change lists are atomic and durable; running gates see
them on their next lookup, without a restart."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from ..dnc.index import CN_MOBILE, NANP, DncIndex, ParseReport, build_index, compact, read_header
from ..dnc.index.parse import Layout
from .runtime import emit_json

PLANS = {plan.name: plan for plan in (NANP, CN_MOBILE)}
LAYOUTS = ("ftc", "plain")


@click.group("national")
def group() -> None:
    """National DNC registry lists (e.g. the US National DNC Registry's flat files)."""


def _report(report: ParseReport | None, source: Path) -> None:
    if report is None:
        return
    for bad in report.bad_lines:
        click.echo(f"{source}:{bad.line_no}: {bad.reason}: {bad.text!r}", err=True)
    click.echo(f"read {report.lines} lines: {report.numbers} numbers, {report.bad_count} bad")


@group.command("build")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--index",
    "index_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The index file (policy.national_dnc).",
)
@click.option(
    "--plan",
    type=click.Choice(sorted(PLANS)),
    default="nanp",
    help="The numbering plan of the list.",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="ftc",
    help="ftc: the registry's 'AAA,PPPPPPP' lines; plain: one number per line.",
)
@click.option(
    "--max-bad-lines",
    default=0,
    type=click.IntRange(0),
    show_default=True,
    help="Refuse the file (nothing changed) when it has more bad lines than this.",
)
def build(
    source: Path,
    index_path: Path,
    plan: str,
    layout: str,
    max_bad_lines: int,
) -> None:
    """Import a full list from SOURCE as the next generation and swap it in atomically."""
    # A first build on a fresh machine (/var/lib/dialguard/us.dnc): its directory is made here,
    # as the SQLite database's is; one that cannot be made is reported naming it.
    index_path.parent.mkdir(parents=True, exist_ok=True)
    result = build_index(
        source,
        index_path,
        PLANS[plan],
        layout=cast(Layout, layout),
        max_bad_lines=max_bad_lines,
    )
    _report(result.report, source)
    click.echo(
        f"{index_path}: generation {result.header.generation}, {result.header.count} numbers"
    )


@group.command("apply")
@click.argument("changes", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--index",
    "index_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The index file (policy.national_dnc).",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="ftc",
    help="ftc: the registry's 'AAA,PPPPPPP' lines; plain: one number per line.",
)
@click.option(
    "--max-bad-lines",
    default=0,
    type=click.IntRange(0),
    show_default=True,
    help="Refuse the file (nothing changed) when it has more bad lines than this.",
)
def apply(changes: Path, index_path: Path, layout: str, max_bad_lines: int) -> None:
    """Apply a registry change list (additions and deletions) durably."""
    with DncIndex.open(index_path) as index:
        change_list = index.apply_change_list(changes, cast(Layout, layout), max_bad_lines)
    _report(change_list.report, changes)
    click.echo(f"{index_path}: {len(change_list.adds)} added, {len(change_list.removes)} removed")


@group.command("compact")
@click.option(
    "--index",
    "index_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The index file (policy.national_dnc).",
)
def compact_index(index_path: Path) -> None:
    """Fold the journal of changes into a new generation (e.g. weekly)."""
    header = compact(index_path)
    click.echo(f"{index_path}: generation {header.generation}, {header.count} numbers")


@group.command("status")
@click.option(
    "--index",
    "index_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The index file (policy.national_dnc).",
)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
def status(index_path: Path, as_json: bool) -> None:
    """The index's generation, size and pending changes."""
    header = read_header(index_path)
    with DncIndex.open(index_path, verify=False) as index:
        pending = index.overlay_size
    view = {
        "index": str(index_path),
        "plan": header.plan.name,
        "generation": header.generation,
        "numbers": header.count,
        "bytes": index_path.stat().st_size,
        "pending_changes": pending,
    }
    if as_json:
        emit_json(view)
    else:
        for key, value in view.items():
            click.echo(f"{key}: {value}")

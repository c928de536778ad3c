"""``dialguard decisions``: the recorded call attempts and what the gate decided."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence

import click

from ..ops.decisions import find_decision
from ..policy.model import Decision, Verdict
from ..views import decision_view
from .runtime import CliState, aligned, emit_json, fail, run, state, utc_option

CSV_COLUMNS = (
    "decision_id", "decided_at", "verdict", "caller", "callee", "tenant", "purpose",
    "campaign", "reasons", "policy_version", "notice",
)  # fmt: skip


@click.group("decisions")
def group() -> None:
    """Recorded decisions (evidence of every call attempt)."""


@group.command("list")
@click.option("--callee", default=None, help="Only calls to this number.")
@click.option("--caller", default=None, help="Only calls presenting this caller ID.")
@click.option("--tenant", default=None, help="Only this tenant's calls.")
@click.option(
    "--verdict", type=click.Choice([v.value for v in Verdict]), default=None, help="Only these."
)
@click.option("--reason", default=None, help="Only decisions with this reason code.")
@click.option(
    "--since", "since_text", default=None, help="Decided at or after (ISO 8601; local if naive)."
)
@click.option(
    "--until", "until_text", default=None, help="Decided before (ISO 8601; local if naive)."
)
@click.option("--limit", default=50, type=click.IntRange(1, 10_000), help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header line (for a spreadsheet).")
@utc_option
@click.pass_context
def list_decisions(
    ctx: click.Context,
    callee: str | None,
    caller: str | None,
    tenant: str | None,
    verdict: str | None,
    reason: str | None,
    since_text: str | None,
    until_text: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
    utc: bool,
) -> None:
    """Newest first, in aligned columns (times in display.timezone with their offset)."""
    cli = state(ctx)
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    to = cli.number(callee) if callee else None
    by = cli.number(caller) if caller else None
    since = cli.instant(since_text, "--since") if since_text else None
    until = cli.instant(until_text, "--until") if until_text else None

    async def _list() -> tuple[Decision, ...]:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            return await tx.decisions.list(
                to,
                since,
                limit,
                until=until,
                tenant=tenant,
                verdict=Verdict(verdict) if verdict else None,
                reason=reason,
                caller=by,
            )

    rows = run(_list)
    if as_json:
        emit_json([decision_view(d) for d in rows])
    elif as_csv:
        _csv(rows, cli, utc)
    else:
        _table(rows, cli, utc)


def _cells(d: Decision, cli: CliState, utc: bool) -> list[str]:
    return [
        cli.shown(d.decided_at, utc=utc),
        d.verdict.value.upper(),
        d.caller or d.attempt.caller,
        d.callee or d.attempt.callee,
        f"{d.attempt.tenant}/{d.attempt.purpose}",
        ",".join(r.code for r in d.reasons) or "-",
        d.decision_id,
    ]


def _table(rows: Sequence[Decision], cli: CliState, utc: bool) -> None:
    if not rows:
        click.echo("no decisions")
        return
    header = ["DECIDED", "VERDICT", "CALLER", "CALLEE", "TENANT/PURPOSE", "REASONS", "ID"]
    for line in aligned([header, *(_cells(d, cli, utc) for d in rows)]):
        click.echo(line)


def _csv(rows: Sequence[Decision], cli: CliState, utc: bool) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in rows:
        writer.writerow(
            [
                d.decision_id,
                cli.shown(d.decided_at, utc=utc).replace(" ", "T"),
                d.verdict.value,
                d.caller or d.attempt.caller,
                d.callee or d.attempt.callee,
                d.attempt.tenant,
                d.attempt.purpose,
                d.attempt.campaign or "",
                ";".join(r.code for r in d.reasons),
                d.policy_version,
                d.notice_status or "",
            ]
        )


@group.command("show")
@click.argument("decision_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
@utc_option
@click.pass_context
def show(ctx: click.Context, decision_id: str, as_json: bool, utc: bool) -> None:
    """One decision, by its id or the first characters of it (at least 4)."""
    cli = state(ctx)

    async def _find() -> Decision | None:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            return await find_decision(tx, decision_id)

    decision = run(_find)
    if decision is None:
        fail(f"no decision {decision_id!r}")
    if as_json:
        emit_json(decision_view(decision))
        return
    view = decision_view(decision)
    click.echo(f"{decision.decision_id}  {decision.verdict.value.upper()}")
    click.echo(f"  decided   {cli.shown(decision.decided_at, utc=utc)}")
    click.echo(
        f"  call      {view['caller']} -> {view['callee']}  {view['tenant']}/{view['purpose']}"
    )
    click.echo(f"  policy    {decision.policy_version}")
    for r in decision.reasons:
        click.echo(f"  - {r.code}: {r.message}")
    if decision.consent_ref:
        click.echo(f"  consent   {decision.consent_ref}")
    if decision.notice_status:
        prompt = f" ({decision.notice_prompt})" if decision.notice_prompt else ""
        click.echo(f"  notice    {decision.notice_status}{prompt}")

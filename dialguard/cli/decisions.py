"""``dialguard decisions``: the recorded call attempts and what the gate decided."""

from __future__ import annotations

import click

from ..views import decision_view
from .runtime import emit_json, run, state


@click.group("decisions")
def group() -> None:
    """Recorded decisions (evidence of every call attempt)."""


@group.command("list")
@click.option("--callee", default=None)
@click.option("--since", "since_text", default=None, help="ISO 8601.")
@click.option("--limit", default=50, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_decisions(
    ctx: click.Context, callee: str | None, since_text: str | None, limit: int, as_json: bool
) -> None:
    """Newest first."""
    cli = state(ctx)
    number = cli.number(callee) if callee else None
    since = cli.instant(since_text, "--since") if since_text else None

    async def _list() -> list[dict[str, object]]:
        async with cli.store() as store, store.transaction() as tx:
            rows = await tx.decisions.list(callee=number, since=since, limit=limit)
            return [decision_view(d) for d in rows]

    views = run(_list)
    if as_json:
        emit_json(views)
        return
    for v in views:
        reasons = ",".join(r["code"] for r in v["reasons"]) or "-"  # type: ignore[attr-defined]
        click.echo(
            f"{v['decided_at']}  {str(v['decision']).upper():5}  {v['caller']} -> {v['callee']}  "
            f"{v['tenant']}/{v['purpose']}  {reasons}  {v['decision_id']}"
        )

"""``dialguard scripts``: campaign scripts, screened for the tenant's banned phrases.

A script with a banned phrase is refused (exit 1) and every hit is printed as
``FILE:LINE:COLUMN: phrase (pack)``; the refusal is stored as evidence, never as an approval.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..campaigns.screening import PhraseScreen
from ..ops.scripts import register_script
from ..storage.script_records import CampaignScript, TextCheck, outermost, script_view
from ..views import jsonable
from .runtime import emit_json, fail, run, state


@click.group("scripts")
def group() -> None:
    """Campaign scripts and their banned-phrase check."""


def screen_for(ctx: click.Context) -> PhraseScreen:
    cli = state(ctx)
    extra = cli.settings.policy.phrases_file
    return PhraseScreen(cli.book, Path(extra) if extra else None)


@group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", required=True, help="The campaign the script is for.")
@click.option("--tenant", required=True, help="Whose campaign (its industry's packs apply).")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def add(ctx: click.Context, file: Path, campaign: str, tenant: str, as_json: bool) -> int:
    """Register FILE as the script of CAMPAIGN; exit 1 (refused) when it has banned phrases."""
    cli = state(ctx)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{file}: not UTF-8 ({exc.reason})", param_hint="FILE") from None
    screen = screen_for(ctx)

    async def _add() -> tuple[CampaignScript, TextCheck]:
        async with cli.store() as store:
            return await register_script(
                store,
                cli.act(),
                screen,
                tenant=tenant,
                campaign=campaign,
                text=text,
                file_name=file.name,
            )

    script, check = run(_add)
    if as_json:
        emit_json(script_view(script))
    else:
        hits = outermost(script.hits)
        for hit in hits:
            click.echo(f"{file}:{hit['line']}:{hit['column']}: {hit['phrase']} ({hit['pack']})")
        packs = ", ".join(check.packs) or "none apply"
        click.echo(
            f"script {script.id} for {tenant}/{campaign}: {script.status.value.upper()} "
            f"({len(hits)} banned phrase(s); packs: {packs})"
        )
    return 0 if check.clean else 1


@group.command("list")
@click.option("--tenant", default=None, help="Only this tenant's scripts.")
@click.option("--campaign", default=None, help="Only this campaign's scripts.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def list_scripts(
    ctx: click.Context, tenant: str | None, campaign: str | None, as_json: bool
) -> None:
    """Registered scripts, oldest first."""
    cli = state(ctx)

    async def _list() -> tuple[CampaignScript, ...]:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            return await tx.scripts.list(tenant, campaign)

    scripts = run(_list)
    if as_json:
        emit_json([script_view(s) for s in scripts])
        return
    for s in scripts:
        click.echo(
            f"{s.id}  {s.tenant}/{s.campaign}  {s.status.value}  {len(s.hits)} hit(s)  "
            f"{s.file_name}  {s.registered_at.isoformat()}  {s.registered_by}"
        )


@group.command("show")
@click.argument("script_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def show(ctx: click.Context, script_id: int, as_json: bool) -> None:
    """One script: its status, its hits and its text."""
    cli = state(ctx)

    async def _get() -> CampaignScript | None:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            return await tx.scripts.get(script_id)

    script = run(_get)
    if script is None:
        fail(f"no script {script_id}")
    if as_json:
        emit_json(jsonable(script))
        return
    summary = script_view(script)
    for key in ("tenant", "campaign", "status", "file_name", "sha256", "phrase_version"):
        click.echo(f"{key}: {summary[key]}")
    click.echo(f"registered: {summary['registered_at']} by {summary['registered_by']}")
    for hit in outermost(script.hits):
        click.echo(f"  {hit['line']}:{hit['column']}: {hit['phrase']} ({hit['pack']})")
    click.echo("---")
    click.echo(script.text, nl=not script.text.endswith("\n"))

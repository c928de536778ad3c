"""``dialguard text check``: screen a text for the tenant's banned phrases, like
``POST /v1/text/check`` (audited; nothing else is stored)."""

from __future__ import annotations

from typing import TextIO

import click

from ..ops.scripts import check_text
from ..storage.records import Tenant
from ..storage.script_records import TextCheck, hit_view, outermost
from .runtime import emit_json, run, state
from .scripts import screen_for


@click.group("text")
def group() -> None:
    """Banned-phrase checks of texts (script lines, chat messages, SMS)."""


@group.command("check")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--tenant", required=True, help="Whose rule packs apply.")
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
@click.pass_context
def check(ctx: click.Context, file: TextIO, tenant: str, as_json: bool) -> int:
    """Check FILE (default: standard input) as it will be used; exit 1 naming every banned
    phrase (`LINE:COLUMN: phrase (pack)`), 0 when clean."""
    cli = state(ctx)
    try:
        text = file.read()
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"not UTF-8 ({exc.reason})", param_hint="FILE") from None
    screen = screen_for(ctx)

    async def _check() -> tuple[Tenant, TextCheck]:
        async with cli.store() as store:
            return await check_text(store, cli.act(), screen, tenant=tenant, text=text)

    known, result = run(_check)
    if as_json:
        emit_json(
            {
                "clean": result.clean,
                "tenant": tenant,
                "industry": known.industry,
                "packs": list(result.packs),
                "phrase_version": result.phrase_version,
                "hits": [hit_view(hit) for hit in result.hits],
            }
        )
    else:
        hits = outermost([hit_view(hit) for hit in result.hits])
        for view in hits:
            click.echo(f"{view['line']}:{view['column']}: {view['phrase']} ({view['pack']})")
        click.echo("clean" if result.clean else f"{len(hits)} banned phrase(s)")
    return 0 if result.clean else 1

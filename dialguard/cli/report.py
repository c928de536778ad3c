"""``dialguard report``: the quarterly self-assessment (季度自查), signed, and checking a
report's signature."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from ..audit.checkpoint import load_public_key
from ..ops.reports import quarterly_report
from ..reports.signature import SignatureError
from ..reports.signature import verify as verify_signature
from .runtime import fail, run, state


@click.group("report")
def group() -> None:
    """Signed compliance reports for a regulator."""


@group.command("quarterly")
@click.option("--tenant", required=True)
@click.option("--quarter", required=True, help="e.g. 2026Q4 (local time of the default pack).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
@click.pass_context
def quarterly(
    ctx: click.Context,
    tenant: str,
    quarter: str,
    html_file: Path | None,
    pdf_file: Path | None,
    lang: str,
) -> None:
    """Write the quarter's self-assessment (HTML and/or PDF), each with a detached signature
    (FILE.sig) made with the audit signing key; audited as report.quarterly."""
    if html_file is None and pdf_file is None:
        raise click.UsageError("give --html FILE and/or --pdf FILE")
    cli = state(ctx)
    zone = ZoneInfo(cli.pack.default_time_zones[0])

    async def _make() -> dict[str, bytes]:
        async with cli.store() as store:
            made = await quarterly_report(
                store,
                cli.act(),
                cli.settings,
                tenant=tenant,
                quarter=quarter,
                lang=lang,
                zone=zone,
                policy_version=cli.pack.policy_version,
                calendar=cli.pack.calendar,
                pdf=pdf_file is not None,
            )
        return made.files

    try:
        files = run(_make)
    except RuntimeError as exc:  # PDF rendering unavailable on this host
        fail(str(exc), code=1)
    for kind, target in (("html", html_file), ("pdf", pdf_file)):
        if target is None:
            continue
        name = next(n for n in files if n.endswith(f".{kind}"))
        target.write_bytes(files[name])
        signature = target.with_name(target.name + ".sig")
        signature.write_bytes(files[f"{name}.sig"])
        click.echo(f"wrote {target} and its signature {signature}")


@group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM public key (default: the public half of audit.signing_key_file).",
)
@click.pass_context
def verify(ctx: click.Context, file: Path, signature: Path, public_key: Path | None) -> None:
    """Check FILE against its detached SIGNATURE; exit 1 if it does not match."""
    key_path = public_key or Path(state(ctx).settings.audit.signing_key_file)
    public = load_public_key(key_path)
    try:
        found = verify_signature(file.read_bytes(), signature.read_text(encoding="utf-8"), public)
    except SignatureError as exc:
        click.echo(f"BAD  {file}: {exc}", err=True)
        ctx.exit(1)
    click.echo(f"OK   {file}: signed {found.signed_at} with key {found.key_id}")

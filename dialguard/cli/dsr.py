"""``dialguard dsr``: data-subject requests (PIPL, GDPR): export, correct, erase, the register."""

from __future__ import annotations

from pathlib import Path

import click

from ..ops import dsr
from ..recording.vault import open_vault
from ..rights import erase as erasure
from ..rights.export import write_export
from ..rights.service import list_requests
from ..storage.dsr_requests import DsrKind, DsrRequest
from ..views import jsonable
from .runtime import emit_json, run, state, utc_option

_REQUEST = click.option(
    "--request",
    "request_id",
    type=click.IntRange(1),
    default=None,
    help="Handle this received request (default: record a new one, handled now).",
)


@click.group("dsr")
def group() -> None:
    """Data-subject requests: access (export), correction, erasure."""


@group.command("receive")
@click.argument("kind", type=click.Choice([k.value for k in DsrKind]))
@click.argument("number")
@click.option("--received", "received_text", default=None, help="ISO 8601 (default: now).")
@click.pass_context
def receive(ctx: click.Context, kind: str, number: str, received_text: str | None) -> None:
    """Put a KIND request about NUMBER on the register, to be handled before its deadline."""
    cli = state(ctx)
    e164 = cli.number(number)
    received = cli.instant(received_text, "--received") if received_text else None

    async def _receive() -> DsrRequest:
        async with cli.store() as store:
            return await dsr.receive(
                store,
                cli.act(),
                kind,
                e164,
                deadline_days=cli.settings.dsr.deadline_days,
                received=received,
            )

    request = run(_receive)
    click.echo(f"request #{request.id} ({kind}) due {request.deadline.isoformat()}")


@group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only requests not yet handled.")
@click.option("--json", "as_json", is_flag=True, help="The requests as JSON.")
@utc_option
@click.pass_context
def list_dsr(ctx: click.Context, open_only: bool, as_json: bool, utc: bool) -> None:
    """The register, oldest deadline first."""
    cli = state(ctx)

    async def _list() -> tuple[DsrRequest, ...]:
        async with cli.store() as store:
            return await list_requests(store, open_only=open_only)

    requests = run(_list)
    if as_json:
        emit_json([jsonable(r) for r in requests])
        return
    now = cli.clock.now()
    for r in requests:
        late = "  OVERDUE" if r.overdue(now) else ""
        click.echo(
            f"#{r.id}  {r.kind:7}  {r.subject_masked}  {r.status:10}  "
            f"received {cli.shown(r.received_at, utc=utc)}  "
            f"due {cli.shown(r.deadline, utc=utc)}{late}"
        )


@group.command("export")
@click.argument("number")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSON file to write.",
)
@click.option("--with-audio", is_flag=True, help="Also decrypt recordings next to the JSON.")
@_REQUEST
@click.pass_context
def export(
    ctx: click.Context, number: str, out: Path, with_audio: bool, request_id: int | None
) -> None:
    """Write everything held about NUMBER to OUT as JSON.

    Sensitive tenants' records (healthcare) included: the CLI has no roles, it is the operator
    with shell access on the gate host; the API keeps such exports to the pack's export roles."""
    cli = state(ctx)
    e164 = cli.number(number)
    vault = open_vault(cli.settings.recording) if with_audio else None

    async def _export() -> list[Path]:
        async with cli.store() as store:
            result = await dsr.export(
                store,
                cli.act(),
                e164,
                deadline_days=cli.settings.dsr.deadline_days,
                request_id=request_id,
            )
        return write_export(result, out, vault)

    for path in run(_export):
        click.echo(f"wrote {path}")


@group.command("correct")
@click.argument("number")
@click.option("--minor/--no-minor", default=None, help="The subject is a minor.")
@click.option("--guardian/--no-guardian", default=None, help="The subject is a minor's guardian.")
@_REQUEST
@click.pass_context
def correct(
    ctx: click.Context,
    number: str,
    minor: bool | None,
    guardian: bool | None,
    request_id: int | None,
) -> None:
    """Correct NUMBER's contact data (audited with before and after)."""
    cli = state(ctx)
    if minor is None and guardian is None:
        raise click.UsageError("give --minor/--no-minor and/or --guardian/--no-guardian")
    e164 = cli.number(number)

    async def _correct() -> dict[str, object]:
        async with cli.store() as store:
            done = await dsr.correct(
                store,
                cli.act(),
                e164,
                deadline_days=cli.settings.dsr.deadline_days,
                minor=minor,
                guardian=guardian,
                request_id=request_id,
            )
        return {
            "request": done.request_id,
            "before": jsonable(done.before),
            "after": jsonable(done.after),
        }

    result = run(_correct)
    click.echo(
        f"request #{result['request']}: contact flags {_flags(result['before'])} → "
        f"{_flags(result['after'])}"
    )


def _flags(view: object) -> str:
    """Contact flags as words (``minor: yes, guardian: no``), not a mapping's repr."""
    if not isinstance(view, dict):
        return "none"
    return ", ".join(
        f"{name}: {'yes' if view.get(name) else 'no'}" for name in ("minor", "guardian")
    )


ERASED_NAMES = {
    "dnc": "do-not-call entries",
    "dnc_kept_by_keyed_hash": "opt-outs kept by keyed pseudonym",
    "consents": "consent records",
    "contact": "contact flags",
    "frequency_resets": "frequency resets",
    "decisions": "decisions",
    "recording_tombstones_masked": "recording tombstones masked",
}
"""How ``dsr erase`` names what it erased (the report's keys are storage's)."""
HELD_NAMES = {"decisions": "decision", "consents": "consent record", "recordings": "recording"}


@group.command("erase")
@click.argument("number")
@_REQUEST
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def erase(
    ctx: click.Context, number: str, request_id: int | None, yes: bool, as_json: bool
) -> None:
    """Erase NUMBER's personal data; what a retention period still covers is restricted."""
    cli = state(ctx)
    e164 = cli.number(number)
    if not yes:
        click.confirm(f"erase the personal data of {e164}? this cannot be undone", abort=True)

    async def _erase() -> erasure.ErasureReport:
        async with cli.store() as store:
            return await dsr.erase(
                store,
                cli.act(),
                cli.pack,
                e164,
                deadline_days=cli.settings.dsr.deadline_days,
                request_id=request_id,
            )

    report = run(_erase)
    if as_json:
        emit_json(jsonable(report))
        return
    erased = ", ".join(
        f"{count} {ERASED_NAMES.get(name, name.replace('_', ' '))}"
        for name, count in report.erased.items()
    )
    click.echo(f"request #{report.request_id} {report.status.value}: erased {erased}")
    for held in report.held:
        until = cli.shown(held.until, empty="the end of the legal hold")
        what = HELD_NAMES.get(held.table, held.table)
        click.echo(f"  restricted {what} #{held.id} until {until}: {held.basis}")
    if report.wal_truncated is False:
        click.echo(
            "  the database's write-ahead log is still in use by a reader: the old copies of "
            "what was erased leave it at its next checkpoint"
        )
    if report.legacy_audit_entries:
        click.echo(
            f"  {report.legacy_audit_entries} audit entries from before pseudonymisation name "
            "the number and cannot be changed (hash chain)"
        )


@group.command("sweep")
@click.pass_context
def sweep(ctx: click.Context) -> None:
    """Erase restricted records whose retention period has ended."""
    cli = state(ctx)

    async def _sweep() -> erasure.SweepReport:
        async with cli.store() as store:
            return await dsr.sweep(store, cli.act())

    report = run(_sweep)
    click.echo(
        f"erased {report.decisions_erased} decision(s) and {report.consents_erased} consent "
        f"record(s), masked {report.tombstones_masked} recording tombstone(s), completed "
        f"{len(report.requests_completed)} request(s)"
    )

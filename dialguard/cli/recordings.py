"""``dialguard recordings``: the vault's recordings — list, show, export, verify, and the legal
hold and retention anchor changes (audited operations, :mod:`dialguard.ops.recordings`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from ..ops import recordings as ops
from ..recording import retention
from ..recording.integrity import ExportRefused, VerifyResult, verify
from ..recording.spool import spool_dirs
from ..recording.vault import RegionViolation, open_vault
from ..recording.views import event_view, recording_view
from ..storage.recording_records import Recording, RecordingEvent, RecordingNotFound
from ..storage.store import Store
from .runtime import CliState, emit_json, fail, run, state, utc_option


async def fetch(store: Store, recording_id: int) -> Recording:
    async with store.transaction(readonly=True) as tx:
        rec = await tx.recordings.get(recording_id)
    if rec is None:
        raise RecordingNotFound(f"no recording {recording_id}")
    return rec


def run_on_store(cli: CliState, job: Callable[[Store], Awaitable[Any]]) -> Any:
    """Run ``job`` with an open store; an unknown recording id is bad input (exit 2)."""

    async def _main() -> Any:
        async with cli.store() as store:
            return await job(store)

    try:
        return run(_main)
    except (RecordingNotFound, RegionViolation, ExportRefused) as exc:
        fail(str(exc))


def _line(rec: Recording, cli: CliState, utc: bool) -> str:
    flags = " HOLD" if rec.legal_hold else ""
    flags += f" DELETED {cli.shown(rec.deleted_at, utc=utc)}" if rec.deleted_at else ""
    seconds = "?" if rec.duration_ms is None else f"{rec.duration_ms / 1000:.1f}s"
    until = cli.shown(rec.terms.retain_until, utc=utc, empty="anchor pending")
    return (
        f"{rec.id:>6}  {cli.shown(rec.ended_at, utc=utc)}  {seconds:>7}  "
        f"{rec.caller} -> {rec.callee}  "
        f"{rec.tenant}  {rec.region}  {rec.terms.retention_class} until {until}{flags}"
    )


@click.group("recordings")
def group() -> None:
    """Call recordings in the encrypted vault."""


@group.command("list")
@click.option("--callee", default=None, help="Only calls to this number.")
@click.option("--since", "since_text", default=None, help="Calls ended at or after (ISO 8601).")
@click.option("--tenant", default=None, help="Only this tenant's calls.")
@click.option("--limit", default=50, type=click.IntRange(1, 10_000), help="At most this many.")
@click.option("--include-deleted", is_flag=True, help="Also the tombstones of deleted ones.")
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
@utc_option
@click.pass_context
def list_recordings(
    ctx: click.Context,
    callee: str | None,
    since_text: str | None,
    tenant: str | None,
    limit: int,
    include_deleted: bool,
    as_json: bool,
    utc: bool,
) -> None:
    """Newest call first."""
    cli = state(ctx)
    number = cli.number(callee) if callee else None
    since = cli.instant(since_text, "--since") if since_text else None

    async def _list(store: Store) -> tuple[Recording, ...]:
        async with store.transaction(readonly=True) as tx:
            return await tx.recordings.list(tenant, since, limit, include_deleted, number)

    rows: tuple[Recording, ...] = run_on_store(cli, _list)
    if as_json:
        emit_json([recording_view(r) for r in rows])
        return
    for rec in rows:
        click.echo(_line(rec, cli, utc))


@group.command("show")
@click.argument("recording_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
@utc_option
@click.pass_context
def show(ctx: click.Context, recording_id: int, as_json: bool, utc: bool) -> None:
    """A recording's metadata and its history (holds, anchor changes, deletion)."""
    cli = state(ctx)

    async def _show(store: Store) -> tuple[Recording, tuple[RecordingEvent, ...]]:
        rec = await fetch(store, recording_id)
        async with store.transaction(readonly=True) as tx:
            return rec, tuple(await tx.recordings.events(recording_id))

    rec, events = run_on_store(cli, _show)
    if as_json:
        emit_json(recording_view(rec) | {"events": [event_view(e) for e in events]})
        return
    terms = rec.terms
    seconds = "unknown" if rec.duration_ms is None else f"{rec.duration_ms / 1000:.1f} s"
    hold = f"yes, since {cli.shown(rec.hold_at, utc=utc)} by {rec.hold_by}: {rec.hold_reason}"
    rows = [
        ("recording", f"#{rec.id} {rec.name}"),
        ("call", f"{rec.caller} -> {rec.callee}  tenant {rec.tenant}"),
        ("decision", rec.decision_id),
        ("started", cli.shown(rec.started_at, utc=utc)),
        ("ended", f"{cli.shown(rec.ended_at, utc=utc)}  ({seconds})"),
        ("stored", f"region {rec.region}, {rec.size_bytes} bytes, key {rec.key_id}"),
        ("sha256", rec.sha256),
        ("retention", f"{terms.retention_class} ({terms.legal_basis})"),
        ("kept until", cli.shown(terms.retain_until, utc=utc, empty="the anchor event is set")),
        ("anchor", f"{terms.anchor_event} at {cli.shown(terms.anchor_at, utc=utc)}"),
        ("legal hold", hold if rec.legal_hold else "no"),
    ]
    if rec.deleted_at is not None:
        rows.append(("deleted", f"{cli.shown(rec.deleted_at, utc=utc)} by {rec.deleted_by}"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label.ljust(width)}  {value}")
    for event in events:
        click.echo(
            f"event  {cli.shown(event.at, utc=utc)}  {event.action.value}  {event.actor}  "
            f"{event.reason or ''}".rstrip()
        )


@group.command("export")
@click.argument("recording_id", metavar="ID", type=int)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WAV file to write.",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists (audited).")
@click.pass_context
def export_recording(ctx: click.Context, recording_id: int, out: Path, force: bool) -> None:
    """Decrypt recording ID to FILE (a WAV, mode 0600), written only if it has the ingested
    SHA-256; never into the vault or a recording spool."""
    cli = state(ctx)
    vault = open_vault(cli.settings.recording)
    spools = spool_dirs(cli.settings.recording, cli.settings.esl)

    async def _export(store: Store) -> str:
        result = await ops.export_recording(
            store, cli.act(), vault, recording_id, out, protected=spools, replace=force
        )
        replaced = " (replaced)" if result.replaced else ""
        return f"recording {recording_id} -> {out}{replaced}, sha256 {result.sha256} verified"

    click.echo(run_on_store(cli, _export))


@group.command("verify")
@click.argument("recording_id", metavar="[ID]", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Every recording not deleted.")
@click.pass_context
def verify_recordings(ctx: click.Context, recording_id: int | None, every: bool) -> None:
    """Decrypt and re-hash; exit 1 naming each tampered, substituted or missing recording."""
    if (recording_id is None) == (not every):
        raise click.UsageError("give a recording ID or --all (not both)")
    cli = state(ctx)
    vault = open_vault(cli.settings.recording)

    async def _verify(store: Store) -> list[VerifyResult]:
        if recording_id is not None:
            ids: tuple[int, ...] = (recording_id,)
        else:
            async with store.transaction(readonly=True) as tx:
                ids = await tx.recordings.live_ids()
        results = []
        for one in ids:
            rec = await fetch(store, one)
            results.append(await asyncio.to_thread(verify, vault, rec))
        return results

    results: list[VerifyResult] = run_on_store(cli, _verify)
    for result in results:
        click.echo(f"{result.recording_id:>6}  {result.status.upper()}  {result.detail}")
    bad = [f"{r.recording_id} ({r.status})" for r in results if not r.ok]
    if bad:
        click.echo(f"error: failed verification: {', '.join(bad)}", err=True)
        sys.exit(1)
    click.echo(f"{len(results)} verified")


def _change_hold(ctx: click.Context, recording_id: int, reason: str, held: bool) -> None:
    cli = state(ctx)
    change = ops.hold if held else ops.release

    async def _change(store: Store) -> None:
        await change(store, cli.act(), recording_id, reason)

    run_on_store(cli, _change)
    click.echo(f"recording {recording_id}: {'on' if held else 'released from'} legal hold")


@group.command("hold")
@click.argument("recording_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why (kept in its history and the audit log).")
@click.pass_context
def hold(ctx: click.Context, recording_id: int, reason: str) -> None:
    """Put recording ID on legal hold: no retention sweep deletes it until it is released."""
    _change_hold(ctx, recording_id, reason, held=True)


@group.command("release")
@click.argument("recording_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why (kept in its history and the audit log).")
@click.pass_context
def release(ctx: click.Context, recording_id: int, reason: str) -> None:
    """Lift the legal hold on recording ID (the next sweep deletes it if its time is up)."""
    _change_hold(ctx, recording_id, reason, held=False)


@group.command("anchor")
@click.argument("recording_id", metavar="ID", type=int)
@click.option("--at", "at_text", required=True, help="When the anchor event happened (ISO 8601).")
@click.option("--reason", required=True, help="Why the anchor is set (audited).")
@click.pass_context
def anchor(ctx: click.Context, recording_id: int, at_text: str, reason: str) -> None:
    """Record when the retention class's anchor event (e.g. contract end) happened: the
    recording is then kept until that instant plus the class's minimum period."""
    cli = state(ctx)
    anchor_at = cli.instant(at_text, "--at")

    async def _anchor(store: Store) -> retention.AnchorChange:
        return await ops.set_anchor(store, cli.act(), recording_id, anchor_at, reason)

    result: retention.AnchorChange = run_on_store(cli, _anchor)
    click.echo(
        f"recording {recording_id}: {result.anchor_event} at {result.anchor_at.isoformat()}, "
        f"kept until {result.retain_until.isoformat()}"
    )

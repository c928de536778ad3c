"""``dialguard consent``: evidence that a callee agreed to be called for a purpose."""

from __future__ import annotations

import click

from ..ops.consent import add_consent, revoke_consent
from ..ops.vocabulary import known_tenant
from ..policy.model import ConsentRecord
from ..views import jsonable
from .runtime import PackNames, aligned, channels_of, emit_json, purposes_of, run, state, utc_option


@click.group("consent")
def group() -> None:
    """Consent records per callee, tenant and purpose."""


@group.command("add")
@click.argument("callee")
@click.option("--tenant", required=True, help="The tenant consented to (it must exist).")
@click.option(
    "--purpose", required=True, cls=PackNames, names=purposes_of, help="What calls are for."
)
@click.option("--evidence", required=True, help="Reference to the evidence (ticket, recording…).")
@click.option(
    "--channel",
    default=None,
    cls=PackNames,
    names=channels_of,
    help="How consent was given. Default: unspecified.",
)
@click.option("--given", "given_text", default=None, help="ISO 8601 (default: now).")
@click.option("--expires", "expires_text", default=None, help="ISO 8601 date/time.")
@click.pass_context
def add(
    ctx: click.Context,
    callee: str,
    tenant: str,
    purpose: str,
    evidence: str,
    channel: str | None,
    given_text: str | None,
    expires_text: str | None,
) -> None:
    """Record CALLEE's consent to calls from TENANT for PURPOSE."""
    cli = state(ctx)
    number = cli.number(callee)
    given = cli.instant(given_text, "--given") if given_text else None
    expires = cli.instant(expires_text, "--expires") if expires_text else None

    async def _add() -> ConsentRecord:
        async with cli.store() as store:
            return await add_consent(
                store,
                cli.act(),
                number,
                tenant=tenant,
                purpose=purpose,
                evidence_ref=evidence,
                vocabulary=cli.vocabulary,
                channel=channel,
                given=given,
                expires=expires,
            )

    record = run(_add)
    click.echo(
        f"consent #{record.consent_id}: {number} → {tenant} for {record.purpose} "
        f"(evidence {record.evidence_ref})"
    )


@group.command("revoke")
@click.argument("callee")
@click.option("--tenant", required=True, help="Whose consent is revoked.")
@click.option("--purpose", default=None, help="Only this purpose (default: every purpose).")
@click.pass_context
def revoke(ctx: click.Context, callee: str, tenant: str, purpose: str | None) -> None:
    """Revoke CALLEE's consent; takes effect for the next call."""
    cli = state(ctx)
    number = cli.number(callee)

    async def _revoke() -> int:
        async with cli.store() as store:
            return await revoke_consent(store, cli.act(), number, tenant=tenant, purpose=purpose)

    click.echo(f"{number}: {run(_revoke)} consent record(s) revoked")


@group.command("list")
@click.argument("callee", required=False)
@click.option("--tenant", required=True, help="Whose consent records (it must exist).")
@click.option("--limit", default=1000, type=click.IntRange(1), help="Without CALLEE: at most.")
@click.option("--json", "as_json", is_flag=True, help="The records as JSON.")
@utc_option
@click.pass_context
def list_consents(
    ctx: click.Context, callee: str | None, tenant: str, limit: int, as_json: bool, utc: bool
) -> None:
    """Show CALLEE's consent records for TENANT, or without CALLEE every callee's (newest
    first)."""
    cli = state(ctx)
    number = cli.number(callee) if callee else None

    async def _list() -> tuple[ConsentRecord, ...]:
        async with cli.store() as store, store.transaction(readonly=True) as tx:
            await known_tenant(tx, tenant)
            if number is None:
                return await tx.consents.of_tenant(tenant, limit)
            return await tx.consents.for_callee(number, tenant)

    records = run(_list)
    if as_json:
        emit_json([jsonable(c) for c in records])
        return
    rows = [
        [
            f"#{c.consent_id}",
            c.callee,
            c.purpose,
            "revoked" if c.revoked_at else "active",
            c.channel,
            c.evidence_ref,
            cli.shown(c.given_at, utc=utc),
            cli.shown(c.expires_at, utc=utc),
        ]
        for c in records
    ]
    header = ["ID", "CALLEE", "PURPOSE", "STATE", "CHANNEL", "EVIDENCE", "GIVEN", "EXPIRES"]
    for line in aligned([header, *rows]) if rows else ["no consent records"]:
        click.echo(line)

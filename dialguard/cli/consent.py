"""``dialguard consent``: evidence that a callee agreed to be called for a purpose."""

from __future__ import annotations

import click

from ..ops.consent import add_consent, revoke_consent
from ..policy.model import ConsentRecord
from ..views import jsonable
from .runtime import PackNames, channels_of, emit_json, purposes_of, run, state


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
@click.option("--tenant", required=True)
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
@click.argument("callee")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_consents(ctx: click.Context, callee: str, tenant: str, as_json: bool) -> None:
    """Show CALLEE's consent records for TENANT."""
    cli = state(ctx)
    number = cli.number(callee)

    async def _list() -> list[dict[str, object]]:
        async with cli.store() as store, store.transaction() as tx:
            return [jsonable(c) for c in await tx.consents.for_callee(number, tenant)]

    rows = run(_list)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state_text = "revoked" if row["revoked_at"] else "active"
        click.echo(
            f"#{row['consent_id']} {row['purpose']} {state_text} evidence={row['evidence_ref']} "
            f"given={row['given_at']} expires={row['expires_at'] or '-'}"
        )

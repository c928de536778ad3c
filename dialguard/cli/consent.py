"""``dialguard consent``: evidence that a callee agreed to be called for a purpose."""

from __future__ import annotations

import click

from ..clock import parse_instant
from ..rights.pseudonyms import masked, subject
from ..views import jsonable
from .runtime import emit_json, run, state


@click.group("consent")
def group() -> None:
    """Consent records per callee, tenant and purpose."""


@group.command("add")
@click.argument("callee")
@click.option("--tenant", required=True)
@click.option("--purpose", required=True)
@click.option("--evidence", required=True, help="Reference to the evidence (ticket, recording…).")
@click.option("--channel", default="unspecified", help="How consent was given (web, ivr, sms…).")
@click.option("--given", "given_text", default=None, help="ISO 8601 (default: now).")
@click.option("--expires", "expires_text", default=None, help="ISO 8601 date/time.")
@click.pass_context
def add(
    ctx: click.Context,
    callee: str,
    tenant: str,
    purpose: str,
    evidence: str,
    channel: str,
    given_text: str | None,
    expires_text: str | None,
) -> None:
    """Record CALLEE's consent to calls from TENANT for PURPOSE."""
    cli = state(ctx)
    number = cli.number(callee)
    given = parse_instant(given_text, "--given") if given_text else cli.clock.now()
    expires = parse_instant(expires_text, "--expires") if expires_text else None
    if expires is not None and expires <= given:
        raise click.BadParameter("must be after the time consent was given", param_hint="--expires")

    async def _add() -> int:
        async with cli.store() as store, store.transaction() as tx:
            await tx.tenants.ensure(tenant)
            record = await tx.consents.add(
                number,
                tenant,
                purpose,
                evidence_ref=evidence,
                channel=channel,
                given_at=given,
                expires_at=expires,
            )
            await tx.audit.append(
                cli.actor,
                "consent.add",
                subject(tx, number),
                {**masked({"after": record}), "evidence": await tx.evidence.changed()},
            )
            return record.consent_id

    consent_id = run(_add)
    click.echo(f"consent #{consent_id}: {number} → {tenant} for {purpose} (evidence {evidence})")


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
        async with cli.store() as store, store.transaction() as tx:
            now = cli.clock.now()
            before = [
                record
                for record in await tx.consents.for_callee(number, tenant)
                if record.revoked_at is None and purpose in (None, record.purpose)
            ]
            count = await tx.consents.revoke(number, tenant, purpose, now)
            await tx.audit.append(
                cli.actor,
                "consent.revoke",
                subject(tx, number),
                {
                    **masked(
                        {
                            "before": before,
                            "after": {
                                "revoked_at": now,
                                "consent_ids": [r.consent_id for r in before],
                            },
                        }
                    ),
                    "evidence": await tx.evidence.changed(),
                },
            )
            return count

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

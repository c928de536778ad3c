"""``dialguard check``: a dry run of the gate for one call. Records nothing."""

from __future__ import annotations

import click

from ..clock import parse_instant
from ..national_dnc import NationalDnc
from ..policy.emergency import is_emergency
from ..policy.model import CallAttempt, Presentation
from ..service import GateService
from ..views import decision_view
from .runtime import emit_json, run, state


@click.command("check")
@click.option("--caller", required=True, help="Caller ID the call would present.")
@click.option("--callee", required=True, help="Number to be called.")
@click.option("--tenant", default="default")
@click.option("--purpose", default="callback")
@click.option("--campaign", default=None)
@click.option("--at", "at_text", default=None, help="ISO 8601 instant (default: now).")
@click.option(
    "--presentation", type=click.Choice([p.value for p in Presentation]), default="allowed"
)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
@click.pass_context
def command(
    ctx: click.Context,
    caller: str,
    callee: str,
    tenant: str,
    purpose: str,
    campaign: str | None,
    at_text: str | None,
    presentation: str,
    as_json: bool,
) -> int:
    """Would this call be allowed? Exit 0 allow, 1 deny, 2 bad input."""
    cli = state(ctx)
    at = parse_instant(at_text, "--at") if at_text else None
    cli.number(caller)  # bad numbers are bad input (exit 2), not a deny
    if not is_emergency(callee, cli.pack):
        cli.number(callee)
    attempt = CallAttempt(
        caller=caller,
        callee=callee,
        tenant=tenant,
        purpose=purpose,
        presentation=Presentation(presentation),
        campaign=campaign,
    )

    async def _check() -> int:
        national = NationalDnc.open(cli.settings.policy.national_dnc)
        async with cli.store() as store:
            gate = GateService(
                store,
                cli.book,
                cli.clock,
                cli.settings.numbers.default_region,
                tenant_region=cli.settings.recording.region_for,
                national_dnc=national,
                decision_region=cli.settings.database.region or None,
            )
            try:
                decision = await gate.dry_run(attempt, at)
            finally:
                gate.close()
                national.close()
        if as_json:
            emit_json(decision_view(decision))
        else:
            _print(decision_view(decision))
        return 0 if decision.allowed else 1

    return run(_check)


def _print(view: dict[str, object]) -> None:
    colour = "green" if view["decision"] == "allow" else "red"
    click.secho(f"{str(view['decision']).upper()}", fg=colour, bold=True, nl=False)
    click.echo(f"  {view['caller']} -> {view['callee']}  policy {view['policy_version']}")
    for reason in view["reasons"]:  # type: ignore[attr-defined]
        click.echo(f"  - {reason['code']}: {reason['message']}")
    if view["consent_ref"]:
        click.echo(f"  consent: {view['consent_ref']}")
    if view["next_allowed_at"]:
        click.echo(f"  next allowed at: {view['next_allowed_at']} (callee's local time)")

"""``dialguard check``: a dry run of the gate for one call. Records nothing.

On an SQLite file it reads the facts as the gate does, without opening a store or an event loop
(:meth:`CliState.on_facts`), so it starts without importing SQLAlchemy or asyncio."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from ..dnc.national import NationalDnc
from ..gate.service import GateService
from ..numbers import time_zones
from ..ops.vocabulary import check_names
from ..policy.emergency import is_emergency
from ..policy.model import CallAttempt, Decision, Presentation
from ..views import decision_view
from .runtime import CliState, PackNames, emit_json, purposes_of, state

if TYPE_CHECKING:
    from ..storage.facts import FactReader


@click.command("check")
@click.option("--caller", required=True, help="Caller ID the call would present.")
@click.option("--callee", required=True, help="Number to be called.")
@click.option("--tenant", default="default", help="The calling tenant (it must exist).")
@click.option(
    "--purpose", default="callback", cls=PackNames, names=purposes_of, help="What the call is for."
)
@click.option("--campaign", default=None, help="The campaign the call belongs to.")
@click.option(
    "--at",
    "at_text",
    default=None,
    help="ISO 8601 instant (default: now); without an offset, in display.timezone.",
)
@click.option(
    "--presentation",
    type=click.Choice([p.value for p in Presentation]),
    default="allowed",
    help="Whether the caller ID is presented (restricted: withheld).",
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
    """Would this call be allowed? A dry run: records nothing and counts towards no cap (a
    dialer that must be counted uses POST /v1/decisions). Exit 0 allow, 1 deny, 2 bad input."""
    cli = state(ctx)
    at = cli.instant(at_text, "--at") if at_text else None
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

    async def dry_run(facts: FactReader) -> Decision:
        await check_names(facts.tenants, cli.vocabulary, tenant, purpose)
        national = NationalDnc.open(cli.settings.policy.national_dnc)
        gate = GateService(
            facts,
            cli.book,
            cli.clock,
            cli.settings.numbers.default_region,
            tenant_region=cli.settings.recording.region_for,
            national_dnc=national,
            decision_region=cli.settings.database.region or None,
        )
        try:
            return await gate.dry_run(attempt, at)
        finally:
            national.close()

    decision = cli.on_facts(dry_run)
    if as_json:
        emit_json({**decision_view(decision), "dry_run": True})
    else:
        _print(decision_view(decision))
        click.echo(f"  at {cli.shown(decision.decided_at)}; {_callee_time(decision, cli)}")
        click.echo("  dry run: nothing recorded, not counted towards frequency caps")
    return 0 if decision.allowed else 1


def _callee_time(decision: Decision, cli: CliState) -> str:
    """The callee's wall time the decision was made on, in each zone their number may be in
    (the pack's default zones when it maps to none)."""
    callee = decision.callee or decision.attempt.callee
    zones = (time_zones(callee) if callee.startswith("+") else ()) or cli.pack.default_time_zones
    local = [
        f"{decision.decided_at.astimezone(ZoneInfo(z)):%Y-%m-%d %H:%M} ({z})" for z in zones[:3]
    ]
    more = f" and {len(zones) - 3} more zones" if len(zones) > 3 else ""
    return f"callee local time {', '.join(local)}{more}"


def _print(view: dict[str, object]) -> None:
    colour = "green" if view["verdict"] == "allow" else "red"
    click.secho(f"{str(view['verdict']).upper()}", fg=colour, bold=True, nl=False)
    click.echo(f"  {view['caller']} -> {view['callee']}  policy {view['policy_version']}")
    for reason in view["reasons"]:  # type: ignore[attr-defined]
        click.echo(f"  - {reason['code']}: {reason['message']}")
    if view["consent_ref"]:
        click.echo(f"  consent: {view['consent_ref']}")
    if view["next_allowed_at"]:
        click.echo(f"  next allowed at: {view['next_allowed_at']} (callee's local time)")

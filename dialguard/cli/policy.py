"""``dialguard policy show``: the effective rules for a call, and where each parameter came from.

With ``--decision ID`` it explains a stored decision: the tenant, callee and instant are the
decision's, and a policy version that differs from the one recorded says the packs (or the
overrides) changed since.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from ..numbers import time_zones
from ..ops.decisions import find_decision
from ..policy.book import Selection
from ..policy.model import Decision
from ..storage.errors import UnknownTenant
from .runtime import CliState, emit_json, fail, run, state


@click.group("policy")
def group() -> None:
    """Rule packs: which apply to a call, and why."""


@group.command("show")
@click.option("--tenant", default=None, help="Tenant whose industry selects the overlay.")
@click.option("--industry", default=None, help="Industry instead of a tenant (no database needed).")
@click.option("--callee", default=None, help="Number called; its country selects the pack.")
@click.option("--at", "at_text", default=None, help="ISO 8601 instant (default: now).")
@click.option(
    "--decision",
    "decision_id",
    default=None,
    help="Explain this stored decision (its id or first characters).",
)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def show(
    ctx: click.Context,
    tenant: str | None,
    industry: str | None,
    callee: str | None,
    at_text: str | None,
    decision_id: str | None,
    as_json: bool,
) -> None:
    """Print the effective rules for a call and the pack, version and file of each."""
    cli = state(ctx)
    if tenant and industry:
        raise click.UsageError("give --tenant or --industry, not both")
    if decision_id and (tenant or industry or callee or at_text):
        raise click.UsageError("--decision takes the tenant, callee and time from the decision")
    recorded: Decision | None = None
    at = cli.instant(at_text, "--at") if at_text else cli.clock.now()
    number = cli.number(callee) if callee else None
    if decision_id:
        decision = run(lambda: _decision(cli, decision_id))
        if decision is None:
            fail(f"no decision {decision_id!r}")
        tenant, number, at = decision.attempt.tenant, decision.callee, decision.decided_at
        recorded = decision
    if tenant:
        industry = run(lambda: _industry(cli, tenant))
    selection = cli.book.explain(industry or "general", number, at.date())
    view = _view(selection, tenant, industry or "general", number, at, recorded)
    if as_json:
        emit_json(view)
    else:
        _print(view)


async def _decision(cli: CliState, decision_id: str) -> Decision | None:
    async with cli.store() as store, store.transaction(readonly=True) as tx:
        return await find_decision(tx, decision_id, "--decision")


async def _industry(cli: CliState, tenant: str) -> str:
    async with cli.store() as store, store.transaction(readonly=True) as tx:
        found = await tx.tenants.get(tenant)
    if found is None:
        raise UnknownTenant(tenant)
    return found.industry


def _view(
    selection: Selection,
    tenant: str | None,
    industry: str,
    callee: str | None,
    at: datetime,
    recorded: Decision | None,
) -> dict[str, Any]:
    """``recorded``: the decision explained (``--decision``): its policy version and recording
    notice are shown beside the rules in force."""
    pack = selection.pack
    return {
        "policy_version": pack.policy_version,
        "recorded_policy_version": None if recorded is None else recorded.policy_version,
        "notice": None if recorded is None else recorded.notice_status,
        "notice_prompt": None if recorded is None else recorded.notice_prompt,
        "tenant": tenant,
        "industry": industry,
        "callee": callee,
        "region": selection.region,
        "subdivision": selection.subdivision,
        "time_zones": list(time_zones(callee) if callee else pack.default_time_zones),
        "at": at.isoformat(),
        "layers": [
            {
                "name": f.name,
                "version": f.version,
                "effective_from": f.effective_from.isoformat(),
                "file": str(f.path),
            }
            for f in selection.files
        ],
        "overrides": selection.overrides,
        "parameters": [
            {"key": key, "value": value, "source": pack.sources[key]}
            for key, value in pack.parameters.items()
        ],
    }


def _print(view: dict[str, Any]) -> None:
    click.secho(f"policy {view['policy_version']}", bold=True)
    if view["recorded_policy_version"] not in (None, view["policy_version"]):
        click.secho(
            f"  the decision was made under {view['recorded_policy_version']}: "
            "the packs or overrides have changed since",
            fg="yellow",
        )
    where = view["callee"] or "callee unknown"
    place = "/".join(p for p in (view["region"], view["subdivision"]) if p) or "no country"
    who = f"tenant {view['tenant']}, " if view["tenant"] else ""
    click.echo(f"  {who}industry {view['industry']}; {where} ({place}); at {view['at']}")
    click.echo(f"  callee time zones: {', '.join(view['time_zones'])}")
    if view["notice"]:
        prompt = f" ({view['notice_prompt']})" if view["notice_prompt"] else ""
        click.echo(f"  the decision's recording notice: {view['notice']}{prompt}")
    for layer in view["layers"]:
        click.echo(
            f"  layer {layer['name']} {layer['version']} "
            f"(in force from {layer['effective_from']}): {layer['file']}"
        )
    if view["overrides"]:
        click.echo(f"  operator {view['overrides']}")
    width = max(len(p["key"]) for p in view["parameters"])
    for param in view["parameters"]:
        value = json.dumps(param["value"], ensure_ascii=False, default=str)
        click.echo(f"    {param['key']:<{width}} = {value}  [{param['source']}]")

"""``dialguard simulate``: place a test call through the running gate, without a PBX.

Connects to ``serve``'s FastAGI listener as Asterisk's ``res_agi`` does (the shipped fake,
:class:`dialguard.agi.testing.FakeAsterisk`: the header block Asterisk 22 sends for the
``outbound`` route, every command answered ``200 result=0``) and prints what the PBX would have
been told: the channel variables the gate set and the commands it sent. The gate decides and
records the call like any other (a decision row, an attempt counted towards frequency caps),
so use a test tenant or callee.
"""

from __future__ import annotations

import asyncio
import time

import click

from ..agi.testing import FakeAsterisk, header_block
from .runtime import fail, state


@click.command("simulate")
@click.option("--caller", required=True, help="Caller ID the call presents.")
@click.option("--callee", required=True, help="Number dialled.")
@click.option("--tenant", required=True, help="The calling tenant (the dialplan's argument).")
@click.option("--purpose", default="callback", help="What the call is for.")
@click.option("--host", default=None, help="The gate's FastAGI host. Default: agi.host.")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Default: agi.port.")
@click.option(
    "--timeout", default=10.0, type=click.FloatRange(0.1, 120), help="Seconds to wait for it."
)
@click.pass_context
def command(
    ctx: click.Context,
    caller: str,
    callee: str,
    tenant: str,
    purpose: str,
    host: str | None,
    port: int | None,
    timeout: float,
) -> int:
    """Place a test call through the running gate over FastAGI and print what the PBX would be
    told. Exit 0 when the gate allowed it, 1 when it denied it."""
    cli = state(ctx)
    agi = cli.settings.agi
    host, port = host or agi.host, port or agi.port
    uniqueid = f"{time.time():.6f}"[:-3]
    block = header_block(
        "outbound", args=(callee, tenant, purpose), callerid=caller, uniqueid=uniqueid
    )
    try:
        record = asyncio.run(FakeAsterisk(port, host, timeout).call(block))
    except (OSError, TimeoutError) as exc:
        fail(f"no gate answering FastAGI at {host}:{port} ({exc}); is `dialguard serve` running?")
    click.echo(f"call {uniqueid}: agi://{host}:{port}/outbound {caller} -> {callee} ({tenant})")
    if not record.variables:
        fail("the gate set no channel variables (see its log)", code=1)
    for name, value in sorted(record.variables.items()):
        click.echo(f"  {name}={value}")
    for line in record.commands:
        click.echo(f"  > {line}")
    return 0 if record.variables.get("DIALGUARD_VERDICT", "").upper() == "ALLOW" else 1

"""``dialguard serve``: run the gate (FastAGI, and the other transports as configured)."""

from __future__ import annotations

import asyncio
import signal

import click

from ..app import GateApp
from ..logs import configure
from .runtime import run, state


@click.command("serve")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Run the gate until SIGTERM or SIGINT."""
    cli = state(ctx)
    settings = cli.settings
    configure(settings.log.level, settings.log.format)
    app = GateApp(settings, cli.clock)

    async def _serve() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await app.start()
        try:
            await stopping.wait()
        finally:
            await app.stop()

    run(_serve)

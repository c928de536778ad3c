"""``dialguard serve``: run the gate (FastAGI, and the other transports as configured)."""

from __future__ import annotations

import asyncio
import gc
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
        freeze_startup_heap()
        try:
            await stopping.wait()
        finally:
            await app.stop()

    run(_serve)


def freeze_startup_heap() -> None:
    """Move what startup built (rule packs, SQLAlchemy's tables, phonenumbers' metadata, the API's
    routes) out of the cyclic garbage collector's reach: it lives as long as the process, and a
    full collection walks every object it tracks, stopping the event loop for tens of milliseconds
    per collection in the middle of calls. Refcounting still frees what is dropped later."""
    gc.collect()
    gc.freeze()

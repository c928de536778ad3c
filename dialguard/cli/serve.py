"""``dialguard serve``: run the gate (FastAGI, and the other transports as configured)."""

from __future__ import annotations

import asyncio
import gc
import signal

import click

from ..app import GateApp
from ..logs import configure
from ..workers import AgiWorkers, exit_with_parent, worker_argv
from .runtime import run, state


@click.command("serve")
@click.option(
    "--agi-worker", type=int, default=0, hidden=True, help="Run as agi.workers process N (1…)."
)
@click.pass_context
def command(ctx: click.Context, agi_worker: int) -> None:
    """Run the gate until SIGTERM or SIGINT."""
    cli = state(ctx)
    settings = cli.settings
    workers = settings.agi.workers
    configure(
        settings.log.level, settings.log.format, {"worker": agi_worker} if workers > 1 else None
    )
    app = GateApp(settings, cli.clock, agi_worker=agi_worker > 0)

    async def _serve() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await app.start()
        freeze_startup_heap()
        extra: AgiWorkers | None = None
        watch: asyncio.Task[None] | None = None
        if agi_worker:
            watch = asyncio.create_task(exit_with_parent(stopping))
        elif settings.agi.enabled and workers > 1:
            extra = AgiWorkers(worker_argv(cli.config_path, cli.assignments), workers - 1)
            extra.start()
        try:
            await stopping.wait()
        finally:
            if watch is not None:
                watch.cancel()
            if extra is not None:
                await extra.stop()
            await app.stop()

    run(_serve)


def freeze_startup_heap() -> None:
    """Move what startup built (rule packs, SQLAlchemy's tables, phonenumbers' metadata, the API's
    routes) out of the cyclic garbage collector's reach: it lives as long as the process, and a
    full collection walks every object it tracks, stopping the event loop for tens of milliseconds
    per collection in the middle of calls. Refcounting still frees what is dropped later."""
    gc.collect()
    gc.freeze()

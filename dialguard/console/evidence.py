"""The Evidence page: the last signed audit checkpoint, the last verification that got through
(``<checkpoint_file>.verified``), and a button (auditor, admin) that verifies the log now.

The verification runs as ``audit verify`` does, in a process of its own
(:func:`dialguard.audit.service.verify`), never on the gate's event loop; the page polls
``/console/evidence/progress`` for how far it is. One at a time, shared with
``GET /v1/audit/verify`` (the API context's lock). The click is audited like any page request;
the result stays in memory until the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from ..audit.checkpoint import CheckpointFileError, read_last_checkpoint
from ..audit.service import verify
from ..audit.verified import load_state, state_path
from ..audit.verify import Progress
from .frame import AUDITORS, CONSOLE, HEADERS, View, page, see_other

JOB = "verify"


@dataclass
class VerifyJob:
    started_at: datetime
    by: str
    phase: str = "starting"
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "started_at": self.started_at.isoformat(),
            "by": self.by,
            "ok": None if self.result is None else self.result["ok"],
            "error": self.error,
        }


def last_checkpoint(path: Path) -> tuple[Any, str | None]:
    try:
        return (read_last_checkpoint(path) if path.exists() else None), None
    except CheckpointFileError as exc:
        return None, str(exc)


async def evidence(view: View) -> web.StreamResponse:
    settings = view.context.settings
    path = Path(settings.audit.checkpoint_file)
    checkpoint, problem = last_checkpoint(path)
    view.subject = "audit"
    job = view.state.jobs.get(JOB)
    return view.render(
        "evidence.html",
        {
            "checkpoint": checkpoint,
            "checkpoint_problem": problem,
            "verified": load_state(state_path(path)),
            "job": job,
            "problems": (job.result or {}).get("problems", [])[:50] if job else [],
        },
    )


async def start_verification(view: View) -> web.StreamResponse:
    context = view.context
    jobs = view.state.jobs
    view.subject = "audit.verify"
    current = jobs.get(JOB)
    if (current is not None and current.running) or context.verifying.locked():
        return see_other("/console/evidence")
    full = (await view.request.post()).get("full") == "1"
    job = VerifyJob(context.clock.now(), view.principal.name)

    def progress(step: Progress) -> None:
        job.phase, job.done, job.total = step.phase, step.done, step.total

    async def run() -> None:
        async with context.verifying:
            try:
                report = await verify(context.settings, full=full, on_progress=progress)
            except (ValueError, OSError) as exc:
                job.error, job.phase = f"cannot verify: {exc}", "failed"
                return
        job.result = {"ok": report.ok, **asdict(report)}
        job.phase = "done"

    job.task = asyncio.create_task(run(), name="dialguard-console-verify")
    jobs[JOB] = job
    return see_other("/console/evidence")


async def verification_progress(view: View) -> web.StreamResponse:
    view.subject = "audit.verify"
    job = view.state.jobs.get(JOB)
    body = {"running": False} if job is None else job.status()
    response = web.json_response(body)
    response.headers.update(HEADERS)
    return response


async def stop_jobs(app: web.Application) -> None:
    """``serve`` stopping: end a verification in flight (its child process is killed)."""
    for job in app[CONSOLE].jobs.values():
        if isinstance(job, VerifyJob) and job.task is not None and not job.task.done():
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.task


ROUTES = (
    page("/console/evidence", AUDITORS, evidence),
    page("/console/evidence/verify", AUDITORS, start_verification, method="POST"),
    page("/console/evidence/progress", AUDITORS, verification_progress),
)

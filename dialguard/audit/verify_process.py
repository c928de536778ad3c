"""Verification in a process of its own, so it never competes with the call path.

Verifying re-hashes every entry and row it reads: seconds of CPU for a day's log, minutes for a
month's. Run on the gate's event loop it stalls every call meanwhile (they time out and are
denied ``gate.timeout``), and a thread would still contend for the interpreter lock. So
:func:`run_verification` starts ``python -m dialguard.audit.verify_process``, at a lower CPU
priority (``nice``), with its own database connection; the request goes in on stdin (the
database URL may hold a password: never on the command line), and the child answers with JSON
lines on stdout: ``{"progress": {...}}`` as it goes, then ``{"report": {...}}`` or
``{"error": "..."}``. The caller awaits the lines; cancelling it kills the child.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ..files.keys import KeyFileError
from ..settings.database import DatabaseSettings
from ..storage.errors import describe
from .checkpoint import CheckpointFileError, load_public_key, read_checkpoints
from .verified import load_state, save_state, state_path
from .verify import OnProgress, Problem, Progress, VerifyReport, verify_log

NICENESS = 10
STREAM_LIMIT = 16 * 1024 * 1024
"""Longest line the parent accepts from the child (a report naming many problems)."""


class VerificationError(ValueError):
    """The verification could not run (an unreadable checkpoint file or key, a dead child)."""


@dataclass(frozen=True)
class VerifyRequest:
    database: DatabaseSettings
    checkpoint_file: str | None
    """Checkpoints to check the log against (and whose ``.verified`` state to resume from)."""
    public_key_file: str | None
    full: bool = False
    """Re-read everything, ignoring the state the last verification left."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> VerifyRequest:
        data = json.loads(text)
        return cls(
            DatabaseSettings(**data["database"]),
            data["checkpoint_file"],
            data["public_key_file"],
            bool(data["full"]),
        )


def report_from(data: dict[str, Any]) -> VerifyReport:
    problems = [Problem(**problem) for problem in data.pop("problems")]
    return VerifyReport(problems=problems, **data)


async def run_verification(
    request: VerifyRequest, on_progress: OnProgress | None = None
) -> VerifyReport:
    """Verify in a child process; ``on_progress`` hears how far it is (entries, then rows)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=STREAM_LIMIT,
    )
    try:
        assert child.stdin is not None and child.stdout is not None and child.stderr is not None
        child.stdin.write(request.to_json().encode())
        await child.stdin.drain()
        child.stdin.close()
        errors = asyncio.create_task(child.stderr.read())
        outcome: dict[str, Any] | None = None
        async for line in child.stdout:
            message = json.loads(line)
            if "progress" in message:
                if on_progress is not None:
                    on_progress(Progress(**message["progress"]))
            else:
                outcome = message
        await child.wait()
        stderr = (await errors).decode(errors="replace").strip()
    finally:
        if child.returncode is None:
            child.kill()
            with contextlib.suppress(ProcessLookupError):
                await child.wait()
    if outcome is None:
        last = stderr.splitlines()[-1] if stderr else f"exit status {child.returncode}"
        raise VerificationError(f"the verification process failed: {last}")
    if "error" in outcome:
        raise VerificationError(str(outcome["error"]))
    return report_from(outcome["report"])


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _emit_progress(step: Progress) -> None:
    _emit({"progress": asdict(step)})


async def verify_request(request: VerifyRequest, on_progress: OnProgress) -> VerifyReport:
    """What the child does with ``request``: verify, and keep the verified state beside the
    checkpoint file. Tests about what verification finds (not where it runs) call it in their
    own process, sparing an interpreter's start-up per verification."""
    checkpoints = []
    public = None
    state_file = None
    if request.checkpoint_file is not None:
        path = Path(request.checkpoint_file)
        checkpoints = read_checkpoints(path)
        public = load_public_key(Path(request.public_key_file or ""))
        state_file = state_path(path)
    state = None if request.full or state_file is None else load_state(state_file)
    report, kept = await verify_log(
        request.database, checkpoints, public, state=state, on_progress=on_progress
    )
    if kept is not None and state_file is not None:
        try:
            save_state(state_file, kept)
        except OSError as exc:
            report.notes.append(f"cannot keep the verified state in {state_file}: {exc}")
    return report


def main() -> None:
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    request = VerifyRequest.from_json(sys.stdin.read())
    try:
        report = asyncio.run(verify_request(request, _emit_progress))
    except (CheckpointFileError, KeyFileError, ValueError) as exc:
        _emit({"error": str(exc)})
        return
    except (SQLAlchemyError, OSError) as exc:
        _emit({"error": f"cannot read the database: {describe(exc)}"})
        return
    _emit({"report": asdict(report)})


if __name__ == "__main__":
    main()

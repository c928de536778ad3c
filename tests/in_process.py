"""Run ``dialguard`` inside the test process, as a fresh ``dialguard`` process would run.

A subprocess pays the interpreter's and the imports' start-up on every call; the CLI contract
tests run hundreds of commands, so they call :func:`dialguard.cli.main.main` here instead and
get back what ``subprocess.run(..., capture_output=True, text=True)`` would have returned.

What a process would not share with the next one is set up and put back around each run:

- the environment: ``env`` is the whole environment of the run (as ``subprocess.run``'s), not
  additions to the test's; ``os.environ`` is restored afterwards;
- the working directory (``cwd``);
- stdin, stdout and stderr (click's ``CliRunner`` isolation: text in, text out, not a TTY);
- logging: the root logger has no handler during the run, so a library's warning reaches stderr
  as it would in a process (pytest's capture handler would otherwise swallow it), and whatever
  the command configured on the ``dialguard`` logger is undone;
- the exit status: ``SystemExit`` gives it; an exception that escapes ``main`` is printed as a
  traceback on stderr with status 1, as the interpreter does.

Every command opens and closes its own store and runs its own event loop (``asyncio.run``), so
call this from synchronous code (an async test uses ``asyncio.to_thread``). Commands that must
be a real process stay subprocesses: ``serve``, signals, the installed entry point.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from dialguard.cli.main import main


def run_dialguard(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``dialguard ARGS`` with ``env`` as its whole environment (default: the test's), ``input``
    on stdin and ``cwd`` as its working directory: its exit status, stdout and stderr."""
    _refuse_inside_event_loop()
    argv = [str(arg) for arg in args]
    with (
        _environment(dict(os.environ) if env is None else env),
        _working_directory(cwd),
        _logging_as_in_a_process(),
        CliRunner().isolation(input=input) as (stdout, stderr, _),
    ):
        code = _exit_status(argv)
        sys.stdout.flush()  # what print() and the traceback wrote is still in the text layer
        sys.stderr.flush()
        out = stdout.getvalue().decode("utf-8", errors="replace")
        err = stderr.getvalue().decode("utf-8", errors="replace")
    return subprocess.CompletedProcess(["dialguard", *argv], code, out, err)


def _exit_status(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def _refuse_inside_event_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError("run_dialguard from an event loop: call it with asyncio.to_thread")


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _working_directory(cwd: Path | str | None) -> Iterator[None]:
    saved = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _logging_as_in_a_process() -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("dialguard")
    saved = (root.handlers[:], root.level, ours.handlers[:], ours.level, ours.propagate)
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:], ours.handlers[:] = saved[0], saved[2]
        root.setLevel(saved[1])
        ours.setLevel(saved[3])
        ours.propagate = saved[4]

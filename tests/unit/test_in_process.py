"""The in-process CLI runner behaves as a fresh process would: the environment it is given is the
whole environment and nothing of it stays behind, nor the working directory or a logging
handler; exit status, stdout and stderr are what a process would have had."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import in_process
import pytest
from in_process import run_dialguard


def test_the_environment_is_the_one_given_and_is_put_back(tmp_path: Path) -> None:
    os.environ["DIALGUARD_SET_BY_THE_TEST"] = "1"
    before = dict(os.environ)
    seen: dict[str, str] = {}
    try:

        def command(args: list[str]) -> None:
            seen.update(os.environ)
            os.environ["LEFT_BEHIND"] = "1"
            print(Path.cwd())

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(in_process, "main", command)
            result = run_dialguard(["x"], env={"ONLY": "this"}, cwd=tmp_path)
        assert seen == {"ONLY": "this"}
        assert result.stdout == f"{tmp_path}\n"
        assert dict(os.environ) == before
        assert Path.cwd() != tmp_path
    finally:
        del os.environ["DIALGUARD_SET_BY_THE_TEST"]


def test_exit_status_output_and_tracebacks_as_a_process_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exits(args: list[str]) -> None:
        print("out")
        raise SystemExit(int(args[0]))

    monkeypatch.setattr(in_process, "main", exits)
    assert run_dialguard(["3"]).returncode == 3
    assert run_dialguard(["0"]).stdout == "out\n"

    def fails(args: list[str]) -> None:
        raise RuntimeError("escaped")

    monkeypatch.setattr(in_process, "main", fails)
    failed = run_dialguard([])
    assert failed.returncode == 1
    assert failed.stderr.startswith("Traceback") and "RuntimeError: escaped" in failed.stderr


def test_a_library_warning_reaches_stderr_and_handlers_are_put_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = logging.getLogger("dialguard")
    before = (logging.getLogger().handlers[:], ours.handlers[:], ours.propagate)

    def logs(args: list[str]) -> None:
        logging.getLogger("some.library").warning("disk nearly full")
        ours.handlers[:] = [logging.NullHandler()]  # as serve's logging set-up replaces them
        ours.propagate = False

    monkeypatch.setattr(in_process, "main", logs)
    assert run_dialguard([]).stderr == "disk nearly full\n"
    assert (logging.getLogger().handlers, ours.handlers, ours.propagate) == before


def test_the_real_cli_runs_in_process() -> None:
    result = run_dialguard(["--version"])
    assert result.returncode == 0
    assert result.stdout.startswith("dialguard ")
    bad = run_dialguard(["no-such-command"])
    assert bad.returncode == 2 and "No such command 'no-such-command'" in bad.stderr


async def test_it_refuses_to_run_on_an_event_loop() -> None:
    with pytest.raises(RuntimeError, match=r"asyncio\.to_thread"):
        run_dialguard(["--version"])

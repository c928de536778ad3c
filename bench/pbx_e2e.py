"""Benchmark 1 (issues 8, 15): SIPp → Asterisk or FreeSWITCH → dialguard, end to end.

    .venv/bin/python bench/pbx_e2e.py [--pbx asterisk|freeswitch] [--rates 20,50,100,200]
        [--duration 10] [--hold-ms 0]
        [--search-max 400] [--resolution 10] [--trial 10] [--soak 600 [--soak-rate 100]
        [--soak-paths gate]] [--consents 100000] [--gate-cpus 1 --pbx-cpus 0]

Short calls (INVITE, 200, ACK, hold ``--hold-ms``, BYE; ``bench/sipp/short_call.xml``) at fixed
offered rates (``sipp -r RATE -m N``, one caller/callee per call from an ``-inf`` CSV), through
the same Asterisk both with the gate (the shipped ``dialguard-outbound`` Gosub, FastAGI to
``dialguard serve`` on SQLite, clock frozen at a working hour) and without it (the same context
minus the Gosub: ``devkit/bench_asterisk.py``), in the same run. Every callee is distinct and has
consent, so the gate allows every call and the frequency caps never deny.

Printed per rate and path: post-dial delay (INVITE → the 200 that follows the 100; the far end
answers without ringing) p50/p99 from SIPp's per-call response times (``-trace_rtt``), the
difference from the gate's path, failed calls (SIPp's failed calls plus 403s); then the gate's
own timings (its ``/metrics``). Then, per path, the highest rate with
zero failures by binary search over trials of ``--trial`` seconds (RFC 7502 style), and with
``--soak S`` a confirming trial of S seconds at that rate (``--soak 600``: the 10-minute figure),
or at ``--soak-rate`` (the goal's ``--soak 600 --soak-rate 100``); ``--search-max 0`` skips the
search.

Asterisk runs the load-tuned devkit configuration (``devkit/bench_asterisk.py``: verbose logging
off, no ``maxcalls``, a larger PJSIP thread pool); the tests use the default one.

``--pbx freeswitch``: the real FreeSWITCH 1.11.1 (``devkit/freeswitch.py``, log level warning)
with the shipped ``dialguard.xml`` and three paths. ``gate`` goes through ``dialguard``
(``socket`` to the gate's outbound Event Socket); the gate allows every call with a recording and
the recording notice (a 1 ms tone, :data:`NOTICE`), which the callee leg plays before the
caller's 200. ``no gate`` (``9<number>``) goes straight to ``dialguard_allowed`` with the
variables that ALLOW sets, set in the dialplan (notice, recording on answer): the same media work,
so the difference is the gate's own cost. ``bare`` (``8<number>``) sets only the verdict: what
the PBX costs with neither notice nor recording. All end in the same bridge to the carrier
profile, which answers. A second table gives the gate's CPU per call and the means of its
histograms: decide, commit, and each step of the ESL conversation from the accepted connection
(``dialguard_esl_phase_seconds``).

``--gate-cpus 1 --pbx-cpus 0``: the gate's process on CPU 1 alone and the PBX, SIPp and this
script on CPU 0 (``sched_setaffinity`` on every thread, so threads started later inherit it), for
every path alike: what the gate costs when it does not compete with the PBX for a core.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _common import FROZEN_NOW, Dataset, DataSize, console, ms, percentile, seed_store  # noqa: E402
from rich.table import Table  # noqa: E402

from devkit.bench_asterisk import NO_GATE_PREFIX, bench_container  # noqa: E402
from devkit.freeswitch import FreeSwitch  # noqa: E402
from devkit.gate import Gate  # noqa: E402
from devkit.net import LOOPBACK, free_port  # noqa: E402
from devkit.sipp import parse_invite_outcomes  # noqa: E402
from dialguard.clock import parse_instant  # noqa: E402

SCENARIO = ROOT / "bench/sipp/short_call.xml"
TENANT = "bench00"
BARE_PREFIX = "8"
PREFIXES = {"gate": "", "no gate": NO_GATE_PREFIX, "bare": BARE_PREFIX}
"""What SIPp dials before the number on each path (FreeSWITCH has all three, Asterisk the first
two)."""
NOTICE = "tone_stream://%(1,0,1000)"
"""The recording notice both FreeSWITCH paths play: 1 ms, so its length is left out of both."""


@dataclass
class Trial:
    path: str
    rate: float
    calls: int
    answered: int = 0
    """Calls whose INVITE got a 200."""
    failed: int = 0
    """SIPp's failed calls (no answer, unexpected message, BYE not answered…)."""
    refused: int = 0
    """403s: the gate (or the dialplan's fail-closed branch) refused the call."""
    pdd_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    note: str = ""
    gate_cpu_s: float = 0.0
    """CPU time (user + system) ``dialguard serve`` spent during the trial: its cost per call
    does not depend on how busy the machine is."""
    inside_ms: dict[str, float] = field(default_factory=dict)
    """Means over the trial from the gate's own histograms (``GET /metrics``): ``decide`` (facts
    and policy) and ``commit`` (one group commit of the decision log, fsync included)."""

    @property
    def failures(self) -> int:
        """Calls that did not complete as an answered call."""
        return max(self.calls - self.answered, self.failed)

    @property
    def clean(self) -> bool:
        return self.failures == 0


class Bench:
    def __init__(self, sip_port: int, data: Dataset, work: Path, hold_ms: int):
        self.sip_port = sip_port
        self.work = work
        self.hold_ms = hold_ms
        self._calls = data.calls()
        self._runs = 0
        self.gate_pid: int | None = None
        self.metrics_url = ""
        self.paths: tuple[str, ...] = ("gate", "no gate")

    def _csv(self, path: str, count: int) -> Path:
        file = self.work / f"calls-{self._runs}.csv"
        prefix = PREFIXES[path]
        with file.open("w", encoding="ascii") as out:
            out.write("SEQUENTIAL\n")
            for _, (caller, callee, _tenant) in zip(range(count), self._calls, strict=False):
                out.write(f"{_national(caller)};{prefix}{_national(callee)}\n")
        return file

    def trial(self, path: str, rate: float, seconds: float) -> Trial:
        """``rate`` calls/s for ``seconds``: one SIPp run in the foreground, bounded."""
        self._runs += 1
        count = max(1, round(rate * seconds))
        run_dir = self.work / f"run-{self._runs}"
        run_dir.mkdir()
        inf = self._csv(path, count)
        sipp = shutil.which("sipp")
        if sipp is None:
            raise SystemExit("sipp is not installed: apt-get install sip-tester")
        budget = seconds + 30 + self.hold_ms / 1000
        argv = [
            sipp, f"{LOOPBACK}:{self.sip_port}",
            "-sf", str(SCENARIO), "-inf", str(inf),
            "-i", LOOPBACK,
            "-p", str(free_port(socket.SOCK_DGRAM)), "-mp", str(free_port(socket.SOCK_DGRAM)),
            "-r", f"{rate:g}", "-rp", "1000", "-m", str(count), "-l", str(max(count, 100)),
            "-d", str(self.hold_ms),
            "-timeout", f"{int(budget)}s", "-nostdin", "-max_recv_loops", "10000",
            "-trace_stat", "-stf", "stat.csv", "-fd", "3600",
            "-trace_msg", "-message_file", "messages.log",
            "-trace_err", "-error_file", "errors.log",
        ]  # fmt: skip
        started = time.monotonic()
        cpu_before = _cpu_s(self.gate_pid)
        timings_before = _timings(self.metrics_url)
        try:
            done = subprocess.run(
                argv, cwd=run_dir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=budget + 15, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise SystemExit(f"sipp outlived its own timeout; argv: {argv}") from None
        result = Trial(path, rate, count, elapsed_s=time.monotonic() - started)
        result.gate_cpu_s = _cpu_s(self.gate_pid) - cpu_before
        result.inside_ms = _means_ms(timings_before, _timings(self.metrics_url))
        if done.returncode not in (0, 1):
            raise SystemExit(f"sipp exited with {done.returncode}: {done.stderr.strip()[-1500:]}")
        _read_stats(run_dir / "stat.csv", result)
        trace = (run_dir / "messages.log").read_text(errors="replace")
        for call in parse_invite_outcomes(trace):
            if call.final_code == 200 and call.setup_s is not None:
                result.answered += 1
                result.pdd_ms.append(call.setup_s * 1000)
            elif call.final_code == 403:
                result.refused += 1
        (run_dir / "messages.log").unlink()
        if not result.clean:
            errors = run_dir / "errors.log"
            if errors.exists():
                result.note = _first_error(errors.read_text(errors="replace"))
        return result


def _cpus(text: str | None) -> set[int] | None:
    """``"0,2-3"`` → ``{0, 2, 3}`` (None when not given)."""
    if text is None:
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def _pin(pid: int, cpus: set[int]) -> None:
    """Every thread of ``pid`` onto ``cpus``; threads it starts later inherit the mask."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cpus)


def _cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


TIMINGS = {
    "decide": "dialguard_decision_latency_seconds",
    "commit": "dialguard_decision_commit_seconds",
}
ESL_PHASES = {
    phase: f'dialguard_esl_phase_seconds{{phase="{phase}"}}'
    for phase in ("uuid", "dump", "decided", "sent", "acted")
}
"""The ESL conversation's steps, each timed from the accepted connection (FreeSWITCH only)."""


def _wait_for_api(url: str, seconds: float = 15.0) -> None:
    """``serve`` is ready once its call ports listen; its HTTP API may start a moment later
    (a loaded machine once refused the first ``/metrics``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            _timings(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _timings(url: str) -> dict[str, float]:
    """The ``_sum`` and ``_count`` lines of the gate's timing histograms (none without a URL)."""
    if not url:
        return {}
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    wanted = {
        _series(name, part)
        for name in (*TIMINGS.values(), *ESL_PHASES.values())
        for part in ("_sum", "_count")
    }
    return {
        name: float(value)
        for name, _, value in (line.rpartition(" ") for line in text.splitlines())
        if name in wanted
    }


def _means_ms(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    means = {}
    for label, name in (*TIMINGS.items(), *ESL_PHASES.items()):
        total, count = (_series(name, part) for part in ("_sum", "_count"))
        calls = after.get(count, 0.0) - before.get(count, 0.0)
        if calls > 0:
            means[label] = (after[total] - before.get(total, 0.0)) / calls * 1000
    return means


def _series(histogram: str, part: str) -> str:
    """``name{labels}`` → ``name_sum{labels}`` (``part`` ``_sum`` or ``_count``)."""
    name, brace, labels = histogram.partition("{")
    return f"{name}{part}{brace}{labels}"


def _national(e164: str) -> str:
    return "0" + e164[3:] if e164.startswith("+8610") else e164[3:]


def _read_stats(path: Path, result: Trial) -> None:
    if not path.exists():
        raise SystemExit(f"sipp wrote no statistics ({path})")
    with path.open(newline="", encoding="ascii", errors="replace") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows:
        raise SystemExit(f"sipp statistics {path} are empty")
    result.failed = int(rows[-1].get("FailedCall(C)", 0) or 0)


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "Aborting" in line or "timeout" in line.lower() or "unexpected" in line.lower():
            return line.strip()[:160]
    return ""


def search(
    trial: Callable[[float], Trial], hi: float, resolution: float
) -> tuple[float, list[Trial]]:
    """Highest rate in (0, hi] whose trial has zero failures, to within ``resolution``."""
    lo, trials = 0.0, []
    while hi - lo > resolution:
        mid = round((lo + hi) / 2 / resolution) * resolution or resolution
        if mid <= lo or mid >= hi:
            break
        result = trial(mid)
        trials.append(result)
        console.print(
            f"    {result.path}: {mid:g}/s → {result.failures} failed of {result.calls}"
            + (f" ({result.note})" if result.note else "")
        )
        lo, hi = (mid, hi) if result.clean else (lo, mid)
    return lo, trials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pbx", choices=("asterisk", "freeswitch"), default="asterisk")
    parser.add_argument("--rates", default="20,50,100,200")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per fixed rate")
    parser.add_argument("--hold-ms", type=int, default=0, help="answered call length")
    parser.add_argument("--search-max", type=float, default=400.0)
    parser.add_argument("--resolution", type=float, default=10.0)
    parser.add_argument("--trial", type=float, default=10.0, help="seconds per search trial")
    parser.add_argument("--soak", type=float, default=0.0, help="confirm the max rate for S s")
    parser.add_argument("--soak-rate", type=float, help="soak at this rate, not the max found")
    parser.add_argument(
        "--soak-paths", default="gate,no gate", help="comma-separated paths to soak"
    )
    parser.add_argument("--consents", type=int, default=100_000, help="distinct callees seeded")
    parser.add_argument("--threadpool-max", type=int, default=64)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--gate-cpus", help="pin the gate to these CPUs (e.g. 1)")
    parser.add_argument("--pbx-cpus", help="pin the PBX, SIPp and this script (e.g. 0)")
    args = parser.parse_args()
    if (args.gate_cpus is None) != (args.pbx_cpus is None):
        parser.error("--gate-cpus and --pbx-cpus go together")
    if args.gate_cpus is not None and args.pbx != "freeswitch":
        parser.error("--gate-cpus pins FreeSWITCH's process; Asterisk runs in a container")
    for tool in ("sipp",) if args.pbx == "freeswitch" else ("sipp", "unshare", "nsenter"):
        if shutil.which(tool) is None:
            raise SystemExit(f"pbx_e2e needs {tool} (apt-get install sip-tester util-linux)")
    work = Path(tempfile.mkdtemp(prefix="dialguard-bench-pbx-"))
    try:
        return _run(work, args)
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, args: argparse.Namespace) -> int:
    rates = [float(r) for r in args.rates.split(",")]
    size = DataSize(
        tenants=1,
        numbers=1000,
        consents=args.consents,
        dnc=100_000,
        history=50_000,
        dnc_overlap=0.0,  # every call is to be allowed
    )
    esl_port = free_port() if args.pbx == "freeswitch" else None
    gate = Gate(work / "gate", free_port(), now=FROZEN_NOW, esl_port=esl_port)
    api_port = free_port()
    gate.settings |= {"DIALGUARD_API_ENABLED": "true", "DIALGUARD_API_PORT": str(api_port)}
    gate.settings["DIALGUARD_ESL_NOTICE_SOUND"] = NOTICE
    gate.init()
    data = seed_store(gate.database, size, parse_instant(FROZEN_NOW))
    console.print(
        f"seeded {size.numbers:,} numbers, {size.consents:,} consents, {size.dnc:,} DNC rows, "
        f"{size.history:,} past decisions (clock frozen at {FROZEN_NOW})"
    )
    pbx: Any
    if args.pbx == "freeswitch":
        pbx = FreeSwitch(
            tenant=TENANT,
            no_gate_prefix=NO_GATE_PREFIX,
            no_gate_notice=NOTICE,
            bare_prefix=BARE_PREFIX,
            log_level="warning",
        )
    else:
        pbx = bench_container(TENANT, args.threadpool_max)
    fixed: list[Trial] = []
    found: dict[str, tuple[float, list[Trial]]] = {}
    soaks: list[Trial] = []
    with pbx, gate:
        if isinstance(pbx, FreeSwitch):
            pbx.set_global("dialguard_socket", f"{LOOPBACK}:{esl_port}")
        else:
            pbx.set_global("DIALGUARD_AGI", f"agi://{LOOPBACK}:{gate.port}")
        gate_cpus, pbx_cpus = _cpus(args.gate_cpus), _cpus(args.pbx_cpus)
        if gate_cpus is not None and pbx_cpus is not None and isinstance(pbx, FreeSwitch):
            _pin(gate.pid, gate_cpus)
            _pin(pbx.pid, pbx_cpus)
            _pin(os.getpid(), pbx_cpus)  # SIPp, started by this script, inherits it
            console.print(f"pinned: gate on CPUs {args.gate_cpus}, PBX and SIPp on {args.pbx_cpus}")
        bench = Bench(pbx.sip_port, data, work, args.hold_ms)
        bench.gate_pid = gate.pid
        bench.metrics_url = f"http://{LOOPBACK}:{api_port}/metrics"
        _wait_for_api(bench.metrics_url)
        if isinstance(pbx, FreeSwitch):
            bench.paths = tuple(PREFIXES)
        for (
            path
        ) in bench.paths:  # warm-up: caches, the gate's first connections, Asterisk's threads
            bench.trial(path, 10, 2)
        for rate in rates:
            for path in bench.paths:
                fixed.append(bench.trial(path, rate, args.duration))
                time.sleep(2)
            console.print(f"  {rate:g}/s done")
        for path in bench.paths if args.search_max > 0 else ():
            console.print(f"  searching the highest zero-failure rate, {path}:")
            found[path] = search(
                functools.partial(_trial_at, bench, path, args.trial),
                args.search_max,
                args.resolution,
            )
        if args.soak > 0:
            for path in bench.paths:
                if path not in args.soak_paths.split(","):
                    continue
                rate = args.soak_rate or found.get(path, (0.0, []))[0]
                if rate > 0:
                    console.print(f"  soak: {path} at {rate:g}/s for {args.soak:g} s")
                    soaks.append(bench.trial(path, rate, args.soak))
        remaining = _callees_used(bench)
    args.pbx_name = "FreeSWITCH 1.11.1" if args.pbx == "freeswitch" else "Asterisk 22"
    console.print(_fixed_table(fixed, args))
    console.print(_inside_table(fixed))
    console.print(_search_table(found, soaks, args, bench.paths))
    if remaining > args.consents:
        console.print(
            f"[yellow]note[/yellow]: {remaining:,} calls for {args.consents:,} seeded callees: "
            "callees were reused, some calls may have met the frequency caps (--consents)"
        )
    return 0


def _trial_at(bench: Bench, path: str, seconds: float, rate: float) -> Trial:
    return bench.trial(path, rate, seconds)


def _callees_used(bench: Bench) -> int:
    used = 0
    for file in bench.work.glob("calls-*.csv"):
        with file.open(encoding="ascii") as handle:
            used += sum(1 for _ in handle) - 1
    return used


def _by_rate(fixed: list[Trial]) -> Iterator[dict[str, Trial]]:
    by_rate: dict[float, dict[str, Trial]] = {}
    for trial in fixed:
        by_rate.setdefault(trial.rate, {})[trial.path] = trial
    yield from by_rate.values()


def _fixed_table(fixed: list[Trial], args: argparse.Namespace) -> Table:
    """Post-dial delay per path; Δ is the gate's path minus the other one at the same rate."""
    table = Table(
        title=f"PBX end to end: SIPp → {args.pbx_name} → dialguard, {args.duration:g} s per rate, "
        f"calls held {args.hold_ms} ms; post-dial delay (INVITE → 200) in ms",
    )
    paths = [path for path in PREFIXES if any(t.path == path for t in fixed)]
    columns = ["offered/s", "calls", "gate p50", "gate p99"]
    for path in paths[1:]:
        columns += [f"{path} p50", f"{path} p99", f"Δ {path} p50", f"Δ {path} p99"]
    columns += [f"failed ({path})" for path in paths]
    for name in columns:
        table.add_column(name, justify="right")
    for trials in _by_rate(fixed):
        gated = trials["gate"]
        g50, g99 = percentile(gated.pdd_ms, 50), percentile(gated.pdd_ms, 99)
        row = [f"{gated.rate:g}", str(gated.calls), ms(g50), ms(g99)]
        for path in paths[1:]:
            b50, b99 = percentile(trials[path].pdd_ms, 50), percentile(trials[path].pdd_ms, 99)
            row += [ms(b50), ms(b99), f"{g50 - b50:+.1f}", f"{g99 - b99:+.1f}"]
        row += [_failed(trials[path]) for path in paths]
        table.add_row(*row)
    return table


def _inside_table(fixed: list[Trial]) -> Table:
    """The gate's own view of its path: CPU per call and the means of its histograms."""
    table = Table(
        title="inside the gate (its /metrics, means over each trial, ms): decide and commit; "
        "FreeSWITCH: each step of the ESL conversation, from the accepted connection"
    )
    steps = [*TIMINGS, *(f"esl {phase}" for phase in ESL_PHASES)]
    for name in ("offered/s", "gate CPU/call", *steps):
        table.add_column(name, justify="right")
    for trials in _by_rate(fixed):
        gated = trials["gate"]
        means = [gated.inside_ms.get(k, float("nan")) for k in (*TIMINGS, *ESL_PHASES)]
        table.add_row(
            f"{gated.rate:g}",
            f"{gated.gate_cpu_s * 1000 / max(gated.calls, 1):.2f}",
            *(f"{m:.2f}" if m == m else "-" for m in means),
        )
    return table


def _failed(trial: Trial) -> str:
    if trial.clean:
        return "0"
    detail = f"{trial.refused} refused" if trial.refused else trial.note[:40]
    return f"{trial.failures} ({detail})" if detail else str(trial.failures)


def _search_table(
    found: dict[str, tuple[float, list[Trial]]],
    soaks: list[Trial],
    args: argparse.Namespace,
    paths: tuple[str, ...],
) -> Table:
    table = Table(
        title=f"highest rate with zero failures (binary search up to {args.search_max:g}/s, "
        f"{args.trial:g} s trials, resolution {args.resolution:g}/s)"
    )
    for name in ("path", "max calls/s", "trials", "soak"):
        table.add_column(name, justify="left" if name == "path" else "right")
    for path in paths:
        rate, trials = found.get(path, (float("nan"), []))
        soak = next((s for s in soaks if s.path == path), None)
        soak_text = "-"
        if soak is not None:
            soak_text = (
                f"{soak.rate:g}/s × {args.soak:g} s: {soak.calls} calls, {soak.failures} failed, "
                f"PDD p50 {ms(percentile(soak.pdd_ms, 50))} p99 {ms(percentile(soak.pdd_ms, 99))}"
            )
        table.add_row(path, f"{rate:g}" if rate == rate else "-", str(len(trials)), soak_text)
    gate_rate, bare_rate = found.get("gate", (0.0, []))[0], found.get("no gate", (0.0, []))[0]
    if bare_rate > 0:
        table.caption = f"gate / no gate: {gate_rate / bare_rate:.0%}"
    return table


if __name__ == "__main__":
    sys.exit(main())

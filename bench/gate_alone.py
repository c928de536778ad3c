"""Benchmark 2 (issue 8): the gate alone, over FastAGI and ESL, at fixed offered rates, open loop.

    .venv/bin/python bench/gate_alone.py [--rates 100,500,1000,2000] [--duration 10]
        [--transports agi,esl] [--agi-workers 1] [--poisson] [--numbers 10000] [--consents 100000]
        [--dnc 1000000] [--history 200000] [--national-numbers 250000000]
        [--profile-rate 1000 --profile-out /tmp/gate.svg] [--keep]

``dialguard serve`` (its own process, default settings, SQLite, clock frozen at a working hour)
gets a realistic store: registered numbers spread over 10 tenants, consents, a do-not-call list
(the SQL table, the tenants' own opt-outs), past decisions as frequency history, and with
``--national-numbers N`` a national CN mobile registry of N numbers (``bench/dnc_listgen.py``,
the SQL list's numbers among them) as a memory-mapped index (``policy.national_dnc``). A bare
asyncio FastAGI server (``bench/_agiload.py``: reads the header block, sets one variable) is
measured in the same run at the same rates as the baseline; over ESL the
calls are FreeSWITCH's outbound socket played by the tests' frame-by-frame peer
(``bench/_eslload.py``), against the gate's ESL listener and a bare ESL server that sets the
verdict variable. Each call uses a callee not called before in the run, so the frequency caps
never deny.

Printed per rate and server: decisions/s achieved, client latency (connect → verdict line)
p50/p99/p99.9/max, the generator's own start lag (it is healthy when small), errors, budget
denials (``gate.timeout``/``gate.error``), other denials by reason, and for the gate the time
spent deciding inside it (``latency_ms`` of its decision rows, i.e. before the durable write).
The CPU time the gate's processes spent per decision recorded (ms) is less at the mercy of
other load on the machine than its latencies. Last, the resident and peak memory
(``VmRSS``/``VmHWM``) of the ``serve`` process, the national index included (with
``--agi-workers`` above 1, each worker has its own).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _agiload import StepResult, header_block, run_step  # noqa: E402
from _common import (  # noqa: E402
    FROZEN_NOW,
    Dataset,
    DataSize,
    Stopwatch,
    console,
    make_dataset,
    ms,
    percentile,
    ratio,
    seed_store,
)
from _eslload import channel_data, run_esl_step  # noqa: E402
from dnc_listgen import cn_numbers  # noqa: E402
from rich.table import Table  # noqa: E402

from devkit.gate import Gate  # noqa: E402
from devkit.net import free_port, wait_for_listener  # noqa: E402
from dialguard.clock import parse_instant  # noqa: E402
from dialguard.dnc.index import CN_MOBILE, build_index  # noqa: E402

BUDGET_REASONS = ("gate.timeout", "gate.error")


@contextmanager
def bare_server(script: str) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script), "bare", str(port)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_listener(port, 10.0)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def profiler(pid: int, out: Path | None, seconds: float) -> Iterator[None]:
    """``py-spy record`` of ``pid`` for ``seconds`` when ``out`` is given (needs py-spy)."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("--profile-out needs py-spy: .venv/bin/pip install py-spy")
    form = "raw" if out.suffix == ".txt" else "flamegraph"  # raw: collapsed stacks, greppable
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--duration", str(int(seconds) + 1), "--rate", "250",
         "--nonblocking", "--format", form, "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield
    finally:
        _, err = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0:
            console.print(f"[red]py-spy failed[/red]: {err.decode(errors='replace')[-500:]}")
        else:
            console.print(f"profile of the gate written to {out}")


def listening_pid(port: int) -> int:
    """The pid of the process listening on TCP ``port`` (``ss`` from iproute2)."""
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"pid=(\d+)", out)
    if found is None:
        raise SystemExit(f"no process found listening on port {port}: {out!r}")
    return int(found[1])


def national_index(path: Path, count: int, listed: list[str]) -> Path:
    """A CN mobile registry of ``count`` numbers plus ``listed`` (E.164), built at ``path``."""
    numbers = np.concatenate([cn_numbers(count), [int(n.removeprefix("+86")) for n in listed]])
    build_index(numbers, path, CN_MOBILE)
    return path


def memory_of(pid: int) -> str:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss, peak, anon, file = (
        int(fields[key].split()[0]) >> 10 for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile")
    )
    return (
        f"gate memory: resident {rss} MiB (private {anon} MiB, file-backed {file} MiB: the "
        f"national index and SQLite's shared memory, shared between processes), peak {peak} MiB"
    )


def cpu_seconds(root: int) -> float:
    """User and system CPU time of process ``root`` and its descendants (``agi.workers``)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        fields = text.rpartition(")")[2].split()
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grew = {root}, True
    while grew:
        grown = {pid for pid, (parent, _) in stats.items() if parent in tree} | tree
        grew, tree = grown != tree, grown
    ticks = sum(stats[pid][1] for pid in tree if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def inside_gate_ms(database: Path, step: int) -> list[float]:
    """``latency_ms`` of the decisions of one step (their call ids are ``<step>.<n>``)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT latency_ms FROM decisions WHERE call_id >= ? AND call_id < ?",
            (f"{step}.", f"{step}/"),
        ).fetchall()
    return [float(row[0]) for row in rows if row[0] is not None]


class Runner:
    def __init__(self, data: Dataset, poisson: bool) -> None:
        self.data = data
        self.poisson = poisson
        self.calls = data.calls()
        self.step = 1000

    def blocks(self, step: int) -> Iterator[bytes]:
        for n, (caller, callee, tenant) in enumerate(self.calls):
            yield header_block("outbound", callee, tenant, caller, f"{step}.{n}")

    async def run(
        self, transport: str, port: int, rate: float, count: int
    ) -> tuple[int, StepResult]:
        self.step += 1
        if transport == "esl":
            channels = (
                channel_data(callee, tenant, caller, f"{self.step}.{n}")
                for n, (caller, callee, tenant) in enumerate(self.calls)
            )
            result = await run_esl_step(
                "127.0.0.1", port, rate, channels, count, poisson=self.poisson
            )
        else:
            blocks = self.blocks(self.step)
            result = await run_step("127.0.0.1", port, rate, blocks, count, poisson=self.poisson)
        return self.step, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="100,500,1000,2000")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per rate")
    parser.add_argument("--transports", default="agi,esl", help="agi, esl or both")
    parser.add_argument("--agi-workers", type=int, default=1, help="agi.workers of the gate")
    parser.add_argument("--poisson", action="store_true", help="Poisson arrivals (default fixed)")
    parser.add_argument("--numbers", type=int, default=DataSize.numbers)
    parser.add_argument("--consents", type=int, default=DataSize.consents)
    parser.add_argument("--dnc", type=int, default=DataSize.dnc)
    parser.add_argument("--history", type=int, default=DataSize.history)
    parser.add_argument(
        "--national-numbers", type=int, default=0, help="national CN registry size (0: none)"
    )
    parser.add_argument("--profile-rate", type=float, default=1000.0)
    parser.add_argument(
        "--profile-out", type=Path, help="py-spy profile of that step: .svg, or .txt (collapsed)"
    )
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds between steps")
    parser.add_argument("--save-db", type=Path, help="keep a copy of the seeded store here")
    parser.add_argument(
        "--from-db", type=Path, help="start from a --save-db copy (same sizes) instead of seeding"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    size = DataSize(
        numbers=args.numbers, consents=args.consents, dnc=args.dnc, history=args.history
    )

    work = Path(tempfile.mkdtemp(prefix="dialguard-bench-gate-"))
    try:
        return _run(work, size, rates, args)
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, size: DataSize, rates: list[float], args: argparse.Namespace) -> int:
    national = None
    if args.national_numbers:
        clock = Stopwatch()
        _, listed = make_dataset(size)
        national = national_index(work / "cn-national.dnc", args.national_numbers, listed)
        console.print(
            f"national CN registry: {args.national_numbers:,} + {len(listed):,} numbers, "
            f"{national.stat().st_size >> 20} MiB, built in {clock}"
        )
    gate = Gate(
        work / "gate",
        free_port(),
        now=FROZEN_NOW,
        esl_port=free_port(),
        national_dnc=national,
        agi_workers=args.agi_workers,
    )
    clock = Stopwatch()
    if args.from_db is not None:
        shutil.copyfile(args.from_db, gate.database)
        data, _ = make_dataset(size)
        console.print(f"copied {args.from_db} (seeded earlier with the same sizes)")
    else:
        gate.init()
        data = seed_store(gate.database, size, parse_instant(FROZEN_NOW))
        console.print(
            f"seeded {size.numbers:,} numbers, {size.consents:,} consents, {size.dnc:,} SQL DNC "
            f"rows, {size.history:,} past decisions in {clock} "
            f"({gate.database.stat().st_size >> 20} MiB)"
        )
        if args.save_db is not None:
            shutil.copyfile(gate.database, args.save_db)
    runner = Runner(data, args.poisson)
    transports = args.transports.split(",")
    results: list[tuple[str, float, str, StepResult, list[float]]] = []
    cpu_ms: dict[tuple[str, float], float] = {}
    with gate, bare_server("_agiload.py") as bare_agi, bare_server("_eslload.py") as bare_esl:
        assert gate.esl_port is not None
        ports = {"agi": (gate.port, bare_agi), "esl": (gate.esl_port, bare_esl)}
        gate_pid = listening_pid(gate.port)
        # Warm-up: the gate's caches and SQLite's page cache, the bare servers' code paths.
        for transport in transports:
            for port in ports[transport]:
                asyncio.run(runner.run(transport, port, 200, 400))
        for transport in transports:
            gate_port, bare_port = ports[transport]
            for rate in rates:
                count = max(1, int(rate * args.duration))
                profiled = rate == args.profile_rate and transport == transports[0]
                cpu = cpu_seconds(gate.pid)
                with profiler(gate_pid, args.profile_out if profiled else None, args.duration):
                    step, result = asyncio.run(runner.run(transport, gate_port, rate, count))
                time.sleep(args.settle)  # the group commits of the step's last calls
                spent = cpu_seconds(gate.pid) - cpu
                inside = inside_gate_ms(gate.database, step)
                cpu_ms[transport, rate] = spent * 1000 / max(1, len(inside))
                results.append((transport, rate, "dialguard", result, inside))
                _, bare = asyncio.run(runner.run(transport, bare_port, rate, count))
                results.append((transport, rate, "bare", bare, []))
                console.print(f"  {transport} {rate:g}/s done ({result.errors} gate errors)")
                time.sleep(args.settle)  # let a gate that fell behind drain before the next step
        memory = memory_of(gate_pid)
    console.print(_table(results, cpu_ms, size, args))
    console.print(_verdicts(results))
    console.print(memory)
    return 0


def _table(
    results: list[tuple[str, float, str, StepResult, list[float]]],
    cpu_ms: dict[tuple[str, float], float],
    size: DataSize,
    args: argparse.Namespace,
) -> Table:
    arrivals = "Poisson" if args.poisson else "fixed-interval"
    table = Table(
        title=f"gate alone, open loop ({arrivals}, {args.duration:g} s per rate); latency in ms, "
        "connect → verdict at the client",
        caption=f"data: {size.numbers:,} numbers, {size.consents:,} consents, {size.dnc:,} DNC "
        f"rows (SQL table), {size.history:,} past decisions, national registry "
        f"{args.national_numbers:,} numbers; {args.agi_workers} FastAGI process(es). ×: over "
        "the bare server's. inside: "
        "the decision's own latency_ms (lookups + policy, before the durable write). CPU: "
        "the gate's processes' CPU time (the step and its pause after) per decision recorded.",
    )
    columns = ("via", "offered/s", "server", "done/s", "p50", "p99", "p99.9", "×p50", "×p99",
               "gen lag p99", "errors", "budget denials", "inside p50", "inside p99",
               "CPU/call")  # fmt: skip
    for name in columns:
        table.add_column(name, justify="left" if name in ("via", "server") else "right")
    bare = {(via, rate): res for via, rate, server, res, _ in results if server == "bare"}
    for via, rate, server, res, inside in results:
        lat = res.latencies_ms
        base = bare[via, rate].latencies_ms
        budget = sum(n for k, n in res.outcomes.items() if k.split(" ")[-1] in BUDGET_REASONS)
        gate_row = server == "dialguard"
        table.add_row(
            via,
            f"{rate:g}",
            server,
            f"{res.answered_rate:.0f}",
            ms(percentile(lat, 50)),
            ms(percentile(lat, 99)),
            ms(percentile(lat, 99.9)),
            ratio(percentile(lat, 50), percentile(base, 50)) if gate_row else "",
            ratio(percentile(lat, 99), percentile(base, 99)) if gate_row else "",
            ms(percentile(res.start_lag_ms, 99)),
            str(res.errors) + (f" ({_errors(res)})" if res.errors else ""),
            str(budget) if gate_row else "",
            ms(percentile(inside, 50)) if gate_row else "",
            ms(percentile(inside, 99)) if gate_row else "",
            ms(cpu_ms[via, rate]) if gate_row else "",
        )
    return table


def _verdicts(results: list[tuple[str, float, str, StepResult, list[float]]]) -> str:
    lines = ["verdicts of the gate per transport and offered rate:"]
    for via, rate, server, res, _ in results:
        if server == "dialguard":
            counts = ", ".join(f"{k} {n}" for k, n in res.outcomes.most_common())
            lines.append(f"  {via} {rate:g}/s: {counts}")
    return "\n".join(lines)


def _errors(res: StepResult) -> str:
    return ", ".join(f"{k[6:]} {n}" for k, n in res.outcomes.items() if k.startswith("error"))


if __name__ == "__main__":
    sys.exit(main())

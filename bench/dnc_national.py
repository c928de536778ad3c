"""National DNC list benchmark: dialguard.dnc.index against an indexed SQLite table.

    .venv/bin/python bench/dnc_national.py [--numbers 250000000] [--baseline-numbers 50000000]
                                           [--cn] [--keep] [--dir /var/tmp/dialguard-bench]

Generates a realistic list (bench/dnc_listgen.py) in the FTC flat-file layout, imports it, and
measures, each step in a fresh process so that peak memory is the step's own: import time and
peak RSS; file size and bytes per number; cold start (fresh interpreter: import + open + first
lookup, page cache warm and evicted); lookups per second on one thread and per-lookup p50/p99
(batches of 8); reader RSS; a 10k-line change list and a single opt-out (time to durable, time
until a long-running reader process sees it); a full swap (compaction) while a reader process
keeps looking up (its longest lookup and the remap). SQLite (``INTEGER PRIMARY KEY``) is
measured the same way on ``--baseline-numbers`` of the same list, and shown as ratios.
Generated files are deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from dnc_listgen import cn_numbers, nanp_numbers, write_lines  # noqa: E402

from dialguard.dnc.index import CN_MOBILE, NANP, DncIndex, NumberPlan, build_index, compact  # noqa: E402

PROBES = 1_000_000
BATCH = 8


def _mem() -> dict[str, float]:
    status = Path("/proc/self/status").read_text().splitlines()
    fields = {k: v.split()[0] for k, _, v in (line.partition(":") for line in status) if v.split()}
    return {
        "hwm_mb": int(fields["VmHWM"]) / 1024,
        "rss_mb": int(fields["VmRSS"]) / 1024,
        "rss_anon_mb": int(fields.get("RssAnon", 0)) / 1024,
        "rss_file_mb": int(fields.get("RssFile", 0)) / 1024,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(step: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--step", step, *args], capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(f"step {step} failed:\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _members(list_path: Path, plan: NumberPlan, count: int, seed: int) -> list[int]:
    """``count`` random lines of the list (all 12 bytes wide), as national numbers."""
    rng = np.random.default_rng(seed)
    rows = np.memmap(list_path, dtype=np.uint8, mode="r").reshape(-1, 12)
    picked = rows[np.sort(rng.integers(0, len(rows), count))]
    digits = picked[:, [c for c in range(11) if not (plan is NANP and c == 3)]] - 48
    weights = 10 ** np.arange(digits.shape[1] - 1, -1, -1)
    return [int(n) for n in digits.astype(np.int64) @ weights]


def _probes(list_path: Path, plan: NumberPlan, seed: int) -> list[int]:
    """Half members, half random numbers of the plan (mostly not listed), shuffled."""
    rng = np.random.default_rng(seed)
    others = [n for n in rng.integers(plan.low, plan.high + 1, PROBES // 2).tolist()]
    probes = _members(list_path, plan, PROBES // 2, seed) + [n for n in others if plan.is_valid(n)]
    return [probes[i] for i in rng.permutation(len(probes))]


def _time_lookups(lookup: Callable[[Any], bool], probes: Sequence[Any]) -> dict[str, float]:
    """Throughput (median over 10 batches) and per-lookup p50/p99 from batches of BATCH."""
    for n in probes[:20_000]:
        lookup(n)
    rates = []
    step = len(probes) // 10
    for lo in range(0, step * 10, step):
        batch = probes[lo : lo + step]
        t0 = time.perf_counter_ns()
        for n in batch:
            lookup(n)
        rates.append(len(batch) / ((time.perf_counter_ns() - t0) / 1e9))
    per: list[float] = []
    for lo in range(0, min(len(probes), 400_000), BATCH):
        batch = probes[lo : lo + BATCH]
        t0 = time.perf_counter_ns()
        for n in batch:
            lookup(n)
        per.append((time.perf_counter_ns() - t0) / len(batch) / 1000)
    q = statistics.quantiles(per, n=100)
    hits = sum(1 for n in probes[:100_000] if lookup(n))
    return {
        "per_s": statistics.median(rates),
        "p50_us": q[49],
        "p99_us": q[98],
        "hit_share": hits / 100_000,
    }


# --- child steps ---------------------------------------------------------------------------


def step_generate(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    if args.plan == "nanp":
        numbers = nanp_numbers(args.numbers)
        write_lines(numbers, Path(args.list), "ftc")
    else:
        numbers = cn_numbers(args.numbers)
        write_lines(numbers, Path(args.list), "plain")
    return {"seconds": time.perf_counter() - t0, "lines": len(numbers)}


def step_import(args: argparse.Namespace) -> dict[str, Any]:
    plan = NANP if args.plan == "nanp" else CN_MOBILE
    t0 = time.perf_counter()
    result = build_index(
        Path(args.list), Path(args.index), plan, layout="ftc" if plan is NANP else "plain"
    )
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "count": result.header.count,
        "lines": result.header.source_lines,
        **_mem(),
    }


def step_lookups(args: argparse.Namespace) -> dict[str, Any]:
    plan = NANP if args.plan == "nanp" else CN_MOBILE
    probes = _probes(Path(args.list), plan, 7)
    before = _mem()
    index = DncIndex.open(args.index)
    national = _time_lookups(index.contains_national, probes)
    prefix = plan.e164_prefix
    e164 = _time_lookups(index.contains, [f"{prefix}{n}" for n in probes])
    return {"national": national, "e164": e164, "mem": _mem(), "mem_before": before}


def step_reader(args: argparse.Namespace) -> dict[str, Any]:
    """Look up until told to stop, noting the longest lookup, generations and the sentinel."""
    plan = NANP if args.plan == "nanp" else CN_MOBILE
    probes = _probes(Path(args.list), plan, 11)[:200_000]
    sentinel = int(args.sentinel)
    index = DncIndex.open(args.index)
    generations = [(time.monotonic(), index.generation)]
    seen_sentinel: float | None = None
    remap_us = 0.0
    worst = 0
    lat = array("q")  # every 16th lookup's latency: bounded memory, no list regrowth pauses
    stop = Path(args.stop)
    print("ready", flush=True)
    count = 0
    while not stop.exists():
        for n in probes:
            t0 = time.perf_counter_ns()
            index.contains_national(n)
            dt = time.perf_counter_ns() - t0
            worst = max(worst, dt)
            count += 1
            if count % 16 == 0:
                lat.append(dt)
            if count % 64 == 0 and seen_sentinel is None and index.contains_national(sentinel):
                seen_sentinel = time.monotonic()
            if index.generation != generations[-1][1]:
                generations.append((time.monotonic(), index.generation))
                remap_us = dt / 1000
            if count % 100_000 == 0 and stop.exists():
                break
    ordered = sorted(lat)
    return {
        "lookups": count,
        "worst_us": worst / 1000,
        "p999_us": ordered[int(len(ordered) * 0.999)] / 1000,
        "p99_us": ordered[int(len(ordered) * 0.99)] / 1000,
        "generations": generations,
        "sentinel_seen": seen_sentinel,
        "remap_us": remap_us,
    }


def step_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    plan = NANP if args.plan == "nanp" else CN_MOBILE
    count = int(args.numbers)
    rows = np.memmap(Path(args.list), dtype=np.uint8, mode="r").reshape(-1, 12)[:count]
    db = Path(args.db)
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE TABLE dnc (n INTEGER PRIMARY KEY)")
    cols = [c for c in range(11) if not (plan is NANP and c == 3)]
    weights = 10 ** np.arange(len(cols) - 1, -1, -1)
    values = np.unique(
        np.concatenate(
            [
                (rows[lo : lo + 2_000_000][:, cols].astype(np.int64) - 48) @ weights
                for lo in range(0, len(rows), 2_000_000)
            ]
        )
    )  # inserted in key order, SQLite's best case
    for lo in range(0, len(values), 1_000_000):
        part = values[lo : lo + 1_000_000].tolist()
        con.executemany("INSERT INTO dnc VALUES (?)", ((v,) for v in part))
    con.commit()
    load_s = time.perf_counter() - t0
    probes = _probes(Path(args.list), plan, 7)
    cur = con.cursor()

    def lookup(n: int) -> bool:
        return cur.execute("SELECT 1 FROM dnc WHERE n = ?", (n,)).fetchone() is not None

    stats = _time_lookups(lookup, probes[:300_000])
    con.close()
    return {"load_s": load_s, "bytes": db.stat().st_size, "rows": count, **stats, "mem": _mem()}


# --- orchestration -------------------------------------------------------------------------


def _evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


_COLD = """
import json, sys, time
t0 = time.perf_counter()
from dialguard.dnc.index import DncIndex
t1 = time.perf_counter()
index = DncIndex.open(sys.argv[1], verify=sys.argv[2] == "yes")
index.contains_national(int(sys.argv[3]))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "open_first_lookup_s": t2 - t1}))
"""


def _cold(index: Path, plan: NumberPlan, verify: str, evict: bool) -> dict[str, float]:
    """Median over 5 fresh interpreters: import, open + first lookup, and the whole process."""
    runs = []
    probe = str(2015550123 if plan is NANP else 13800138000)
    for _ in range(5):
        if evict:
            _evict(index)
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _COLD, str(index), verify, probe],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        result = json.loads(out.stdout)
        result["process_s"] = time.perf_counter() - t0
        runs.append(result)
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _change_list(path: Path, list_path: Path, plan: NumberPlan, seed: int) -> None:
    """5k additions of random plan numbers and 5k deletions of listed ones (registry layout)."""
    rng = np.random.default_rng(seed)
    adds = [n for n in rng.integers(plan.low, plan.high, 6000).tolist() if plan.is_valid(n)][:5000]
    members = _members(list_path, plan, 5000, seed)
    with path.open("w") as handle:
        for n, flag in [(n, "A") for n in adds] + [(n, "D") for n in members]:
            number = f"{n // 10**7},{n % 10**7:07d}" if plan is NANP else str(n)
            handle.write(f"{number},{flag},2024-06-01\n")


def _swap_with_reader(
    common: list[str], index_path: Path, work: Path, plan: NumberPlan
) -> dict[str, Any]:
    stop = work / "reader.stop"
    stop.unlink(missing_ok=True)
    sentinel = 2012000000 + 4242 if plan is NANP else 13912344242
    reader = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--step",
            "reader",
            *common,
            "--stop",
            str(stop),
            "--sentinel",
            str(sentinel),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    reader.stdout.readline()
    time.sleep(1.0)
    with DncIndex.open(index_path, verify=False) as index:
        index.apply_changes(removes=[sentinel]) if index.contains_national(sentinel) else None
        t0 = time.perf_counter()
        index.apply_changes(adds=[sentinel])
        opt_out_s = time.perf_counter() - t0
        applied_at = time.monotonic()
    time.sleep(0.5)
    t0 = time.perf_counter()
    header = compact(index_path)
    swap_s = time.perf_counter() - t0
    swapped_at = time.monotonic()
    time.sleep(1.0)
    stop.touch()
    out, _ = reader.communicate()
    result = json.loads(out.strip().splitlines()[-1])
    seen = result["sentinel_seen"]
    remapped = [t for t, g in result["generations"] if g == header.generation]
    return {
        "opt_out_s": opt_out_s,
        "visible_after_s": None if seen is None else seen - applied_at,
        "compact_s": swap_s,
        "reader": result,
        "new_generation": header.generation,
        "reader_remapped_after_s": remapped[0] - swapped_at if remapped else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=250_000_000)
    parser.add_argument("--baseline-numbers", type=int, default=50_000_000)
    parser.add_argument("--cn", action="store_true", help="also run a CN mobile list")
    parser.add_argument("--cn-numbers", type=int, default=50_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--dir", default="/var/tmp/dialguard-bench")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    for hidden in ("--plan", "--list", "--index", "--stop", "--sentinel", "--db"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        steps = {
            "generate": step_generate,
            "import": step_import,
            "lookups": step_lookups,
            "reader": step_reader,
            "sqlite": step_sqlite,
        }
        print(json.dumps(steps[args.step](args)))
        return
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        run_plan(work, "nanp", args.numbers, args.baseline_numbers)
        if args.cn:
            run_plan(work, "cn", args.cn_numbers, min(args.baseline_numbers, args.cn_numbers))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run_plan(work: Path, plan_name: str, numbers: int, baseline_numbers: int) -> None:
    plan = NANP if plan_name == "nanp" else CN_MOBILE
    list_path = work / f"{plan_name}-{numbers}.txt"
    index_path = work / f"{plan_name}.dnc"
    common = ["--plan", plan_name, "--list", str(list_path), "--index", str(index_path)]
    print(f"== {plan.name}: {numbers:,} lines ==", flush=True)
    if not list_path.exists():
        gen = _child("generate", *common, "--numbers", str(numbers))
        print(f"generated in {gen['seconds']:.1f} s", flush=True)
    for stale in (index_path, index_path.with_name(index_path.name + ".journal")):
        stale.unlink(missing_ok=True)
    imp = _child("import", *common)
    size = index_path.stat().st_size
    print(
        f"import            {imp['seconds']:8.1f} s   peak RSS (VmHWM) {imp['hwm_mb']:7.0f} MB   "
        f"{imp['lines']:,} lines -> {imp['count']:,} unique",
        flush=True,
    )
    print(
        f"file              {size / 1e6:8.1f} MB  {size / imp['count']:.3f} bytes/number",
        flush=True,
    )
    look = _child("lookups", *common)
    for kind in ("national", "e164"):
        s = look[kind]
        print(
            f"lookups {kind:9} {s['per_s']:10,.0f}/s  p50 {s['p50_us']:.2f} us  "
            f"p99 {s['p99_us']:.2f} us  (hits {s['hit_share']:.0%})",
            flush=True,
        )
    m = look["mem"]
    print(
        f"reader memory     RSS {m['rss_mb']:.0f} MB (file-backed {m['rss_file_mb']:.0f} MB, "
        f"anon {m['rss_anon_mb']:.0f} MB)",
        flush=True,
    )
    for verify in ("no", "yes"):
        for evict in (False, True):
            c = _cold(index_path, plan, verify, evict)
            print(
                f"cold start verify={verify:3} cache={'evicted' if evict else 'warm':7} "
                f"open+first lookup {c['open_first_lookup_s'] * 1000:7.1f} ms  "
                f"(import {c['import_s'] * 1000:.0f} ms, whole process {c['process_s']:.2f} s)",
                flush=True,
            )
    with DncIndex.open(index_path, verify=False) as index:
        times = []
        for i in range(3):
            changes = work / f"changes-{i}.txt"
            _change_list(changes, list_path, plan, 100 + i)
            t0 = time.perf_counter()
            applied = index.apply_change_list(changes, "ftc" if plan is NANP else "plain")
            times.append(time.perf_counter() - t0)
            visible = all(
                index.contains_national(n + plan.key_base) for n in applied.adds.tolist()[:100]
            )
        print(
            f"change list 10k   {statistics.median(times) * 1000:8.1f} ms (median of 3, parse + "
            f"fsync'd journal), visible to next lookup: {visible}",
            flush=True,
        )
    sw = _swap_with_reader(common, index_path, work, plan)
    r = sw["reader"]
    print(
        f"single opt-out    {sw['opt_out_s'] * 1000:8.2f} ms to durable; another process saw it "
        f"{(sw['visible_after_s'] or float('nan')) * 1000:.2f} ms after",
        flush=True,
    )
    print(
        f"swap (compaction) {sw['compact_s']:8.1f} s; reader did {r['lookups']:,} lookups "
        f"meanwhile: worst {r['worst_us']:.0f} us (the remapping one {r['remap_us']:.0f} us), "
        f"p99.9 {r['p999_us']:.1f} us, p99 {r['p99_us']:.1f} us; "
        f"saw generation {sw['new_generation']} "
        f"{(sw['reader_remapped_after_s'] or float('nan')) * 1000:.1f} ms after the swap",
        flush=True,
    )
    base_n = min(baseline_numbers, numbers)
    sq = _child("sqlite", *common, "--numbers", str(base_n), "--db", str(work / "baseline.sqlite"))
    scale = imp["lines"] / base_n
    print(f"-- SQLite INTEGER PRIMARY KEY on the first {base_n:,} lines of the same list --")
    print(
        f"sqlite load       {sq['load_s']:8.1f} s (x{scale:.1f} -> {sq['load_s'] * scale:.0f} s "
        f"extrapolated)  file {sq['bytes'] / 1e6:.0f} MB = {sq['bytes'] / base_n:.2f} bytes/number",
        flush=True,
    )
    print(
        f"sqlite lookups    {sq['per_s']:10,.0f}/s  p50 {sq['p50_us']:.2f} us  "
        f"p99 {sq['p99_us']:.2f} us"
    )
    nat = look["national"]
    print(
        "ratios (dncindex vs sqlite): "
        f"bytes/number {size / imp['count'] / (sq['bytes'] / base_n):.2f}x, "
        f"lookups/s {nat['per_s'] / sq['per_s']:.1f}x, p50 {nat['p50_us'] / sq['p50_us']:.2f}x, "
        f"p99 {nat['p99_us'] / sq['p99_us']:.3f}x, "
        f"import {imp['seconds'] / (sq['load_s'] * scale):.2f}x "
        "(vs extrapolated)",
        flush=True,
    )


if __name__ == "__main__":
    main()

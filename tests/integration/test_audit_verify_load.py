"""Verifying a large audit log never touches the call path.

A gate runs with a log of ``DIALGUARD_TEST_VERIFY_ENTRIES`` decisions (30 000 by default), each
with its evidence; a full verification (every entry and every row) runs through the same entry
point as ``dialguard audit verify`` and ``GET /v1/audit/verify`` while calls are decided through
FastAGI, back to back, until it ends. No call may be denied ``gate.timeout``; the calls' latency
before and during the verification is printed (``pytest -s``) and the verification's progress
must have been reported entry by entry.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from builders import GATE_CALLER as CALLER
from builders import WEDNESDAY_10, gate_settings

from dialguard.agi.testing import FakeAsterisk, header_block
from dialguard.app import GateApp
from dialguard.audit import service as audit
from dialguard.audit.checkpoint import SigningKey
from dialguard.audit.verify import Progress
from dialguard.clock import Clock
from dialguard.policy.model import Decision, NumberType, RegisteredNumber
from dialguard.storage.decision_log import audit_entry
from dialguard.storage.decision_writer import SqliteDecisionWriter
from dialguard.storage.migrate import init_database
from dialguard.storage.settle import unclaimed
from dialguard.storage.store import Store
from dialguard.storage.subject_key import SubjectKey

pytestmark = [pytest.mark.long, pytest.mark.verification_child]

ENTRIES = int(os.environ.get("DIALGUARD_TEST_VERIFY_ENTRIES", "30000"))
WORKERS = 2


async def large_log(store: Store, make_decision: Callable[..., Decision]) -> None:
    """``ENTRIES`` decisions (to as many callees) and their audit entries, through the decision
    log's own writer."""
    file = store.sqlite_file()
    assert file is not None
    writer = SqliteDecisionWriter(file)
    try:
        start = WEDNESDAY_10 - timedelta(days=1)
        for first in range(0, ENTRIES, 5000):
            batch = [
                make_decision(decided_at=start + timedelta(seconds=i), callee=f"+86139{i:08d}")
                for i in range(first, min(first + 5000, ENTRIES))
            ]
            await writer.write(unclaimed(batch), audit_entry)
    finally:
        writer.close()


@pytest.fixture
async def gate(tmp_path: Path, make_decision: Callable[..., Decision]) -> AsyncIterator[GateApp]:
    settings = gate_settings(tmp_path)
    SubjectKey.create(Path(settings.dsr.hash_key_file))
    SigningKey.create(Path(settings.audit.signing_key_file))
    await init_database(settings)
    store = await Store.open(settings)
    try:
        async with store.transaction() as tx:
            await tx.tenants.ensure("acme")
            await tx.numbers.add(
                RegisteredNumber(
                    CALLER,
                    "acme",
                    frozenset({"callback"}),
                    True,
                    True,
                    NumberType.CALL_CENTRE,
                    None,
                    None,
                    True,
                )
            )
            evidence = await tx.evidence.changed()
            await tx.audit.append("admin", "numbers.add", CALLER, {"evidence": evidence})
        await large_log(store, make_decision)
        # The gate's checkpoint writer resumes from here rather than re-reading the log.
        await audit.write_checkpoint(store, settings, now=WEDNESDAY_10)
    finally:
        await store.close()
    app = GateApp(settings, Clock(WEDNESDAY_10))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def one_call(asterisk: FakeAsterisk, n: int) -> tuple[float, str]:
    """A whole FastAGI call; its latency (ms) and first reason."""
    block = header_block(callerid="01088886666", uniqueid=f"1754470000.{n}")
    started = time.perf_counter()
    call = await asterisk.call(block)
    return (time.perf_counter() - started) * 1000, call.variables.get("DIALGUARD_REASON", "")


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"{len(ordered)} calls: p50 {statistics.median(ordered):.1f} ms, p95 {at(0.95):.1f} ms, "
        f"p99 {at(0.99):.1f} ms, max {ordered[-1]:.1f} ms"
    )


async def test_a_large_log_is_verified_while_calls_are_decided(gate: GateApp) -> None:
    assert gate.agi is not None
    asterisk = FakeAsterisk(gate.agi.port, timeout=30)
    before = [await one_call(asterisk, n) for n in range(100)]

    steps: list[Progress] = []
    started = time.perf_counter()
    verifying = asyncio.create_task(
        audit.verify(gate.settings, full=True, on_progress=steps.append)
    )
    during: list[tuple[float, str]] = []

    async def caller(worker: int) -> None:
        n = 1000 + worker
        while not verifying.done():
            during.append(await one_call(asterisk, n))
            n += WORKERS

    await asyncio.gather(*(caller(w) for w in range(WORKERS)))
    report = await verifying
    took = time.perf_counter() - started

    assert report.ok, report.problems[:5]
    assert report.entries >= ENTRIES and report.rows_checked >= ENTRIES
    entries = [s for s in steps if s.phase == "entries"]
    assert len(entries) > ENTRIES // 5000 and entries[-1].done == entries[-1].total
    assert [s.done for s in entries] == sorted(s.done for s in entries)
    reasons = [reason for _, reason in before + during]
    assert "gate.timeout" not in reasons and "gate.error" not in reasons
    assert len(during) >= 20, "too few calls overlapped the verification to show anything"
    print(
        f"\nfull verification of {report.entries} entries and {report.rows_checked} rows: "
        f"{took:.1f} s\nbefore it:  {summary([ms for ms, _ in before])}"
        f"\nduring it:  {summary([ms for ms, _ in during])}"
    )

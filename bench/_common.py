"""Shared by the gate benchmarks: percentiles, result tables, and a realistic seeded store.

Not a benchmark itself. The benches put the repository root on ``sys.path`` and import this as
``_common`` (they run as scripts: ``.venv/bin/python bench/<name>.py``).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console

FROZEN_NOW = "2026-11-25T10:00:00+08:00"
"""The gates' clock in every bench (``DIALGUARD_NOW``): a Wednesday, 10:00 in Beijing, so no
call is in quiet hours or on a holiday whatever the time of the run."""

console = Console(width=150, highlight=False)


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted ``samples``; NaN when empty."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(value: float) -> str:
    """Milliseconds for a table cell (``-`` for NaN)."""
    if value != value:  # NaN
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def ratio(value: float, base: float) -> str:
    if value != value or base != base or base <= 0:
        return "-"
    return f"×{value / base:.2f}"


@dataclass(frozen=True)
class DataSize:
    tenants: int = 10
    numbers: int = 10_000
    """Registered access numbers (the callers), spread over the tenants."""
    consents: int = 100_000
    """Consenting callees, each with one tenant; the benches call these."""
    dnc: int = 1_000_000
    """Rows in the SQL do-not-call table (global)."""
    dnc_overlap: float = 0.01
    """Share of the consenting callees that are on the DNC too (their calls are denied)."""
    history: int = 200_000
    """Past decisions (frequency history) for the consenting callees, all outside the caps."""


@dataclass(frozen=True)
class Dataset:
    size: DataSize
    callers: tuple[tuple[str, str], ...]
    """(E.164 caller, tenant) for every registered number."""
    callees: tuple[tuple[str, str], ...]
    """(E.164 callee, tenant) for every consent, in call order (shuffled)."""

    def calls(self, start: int = 0) -> Iterator[tuple[str, str, str]]:
        """(caller, callee, tenant) for distinct callees from index ``start``, wrapping around; the
        caller is one of the callee's tenant's numbers."""
        by_tenant: dict[str, list[str]] = {}
        for number, tenant in self.callers:
            by_tenant.setdefault(tenant, []).append(number)
        index = start
        while True:
            callee, tenant = self.callees[index % len(self.callees)]
            numbers = by_tenant[tenant]
            yield numbers[index % len(numbers)], callee, tenant
            index += 1


def _tenant(i: int) -> str:
    return f"bench{i:02d}"


def make_dataset(size: DataSize, seed: int = 7) -> tuple[Dataset, list[str]]:
    """The numbers (deterministic for ``seed``): the dataset, and the sorted DNC list."""
    rng = random.Random(seed)
    tenant_names = [_tenant(i) for i in range(size.tenants)]
    # Beijing 010-6xxx-xxxx landlines as callers; 138/139/150/186… mobiles as callees.
    callers = [(f"+86106{i:07d}", tenant_names[i % size.tenants]) for i in range(size.numbers)]
    mobile_prefixes = ("138", "139", "150", "186", "137", "135", "158", "188")
    pool = rng.sample(range(10**8 * len(mobile_prefixes)), size.consents + size.dnc)
    numbers = [f"+86{mobile_prefixes[n // 10**8]}{n % 10**8:08d}" for n in pool]
    callees = [(numbers[i], tenant_names[i % size.tenants]) for i in range(size.consents)]
    dnc_numbers = numbers[size.consents :]
    overlap = int(size.consents * size.dnc_overlap)
    dnc_numbers[:overlap] = [c for c, _ in callees[:overlap]]
    dnc_numbers.sort()  # index order: a bulk load that does not thrash the page cache
    rng.shuffle(callees)
    return Dataset(size, tuple(callers), tuple(callees)), dnc_numbers


def seed_store(database: Path, size: DataSize, now: datetime, seed: int = 7) -> Dataset:
    """Fill an initialised (``dialguard init``) SQLite store with ``size`` of realistic data,
    through the schema's own SQLAlchemy tables so every value is stored as the gate expects."""
    from sqlalchemy import create_engine, insert, select

    from dialguard.storage.schema import (
        consents,
        decisions,
        dnc_entries,
        number_filings,
        registered_numbers,
        tenants,
    )

    data, dnc_numbers = make_dataset(size, seed)
    rng = random.Random(seed)
    at = now.astimezone(UTC)
    tenant_names = sorted({tenant for _, tenant in data.callers})
    callers, callees = data.callers, data.callees
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:  # bulk load without a WAL; the gate puts it back on open
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.exec_driver_sql("PRAGMA cache_size=-524288")  # 512 MiB: random index inserts
        conn.execute(
            insert(tenants),
            [{"name": t, "industry": "general", "created_at": at} for t in tenant_names],
        )
        terms = {
            "purposes": ["callback", "consultation"],
            "inbound_enabled": True,
            "outbound_enabled": True,
            "number_type": "call-centre",
            "filed_on": date(2026, 1, 5),
            "active": True,
        }
        conn.execute(
            insert(registered_numbers),
            [
                {
                    "number": number,
                    "tenant": tenant,
                    "filing_ref": f"MIIT-BENCH-{i}",
                    "created_at": at,
                    "updated_at": at,
                    **terms,
                }
                for i, (number, tenant) in enumerate(callers)
            ],
        )
        # The gate reads the filing in force from number_filings (one version per registration).
        registrations = conn.execute(
            select(
                registered_numbers.c.id,
                registered_numbers.c.number,
                registered_numbers.c.tenant,
                registered_numbers.c.filing_ref,
            )
        ).all()
        conn.execute(
            insert(number_filings),
            [
                {
                    "registration_id": row.id,
                    "number": row.number,
                    "tenant": row.tenant,
                    "change": "filed",
                    "filing_ref": row.filing_ref,
                    "recorded_at": at,
                    **terms,
                }
                for row in registrations
            ],
        )
        conn.execute(
            insert(consents),
            [
                {
                    "callee": callee,
                    "tenant": tenant,
                    "purpose": "callback",
                    "evidence_ref": f"crm-{i}",
                    "channel": "web",
                    "given_at": at - timedelta(days=rng.randint(1, 300)),
                }
                for i, (callee, tenant) in enumerate(callees)
            ],
        )
        for chunk in range(0, len(dnc_numbers), 100_000):
            conn.execute(
                insert(dnc_entries),
                [
                    {
                        "number": number,
                        "scope": "global",
                        "source": "regulator",
                        "reason": "national list",
                        "added_at": at - timedelta(days=30),
                        "added_by": "bench",
                    }
                    for number in dnc_numbers[chunk : chunk + 100_000]
                ],
            )
        conn.execute(insert(decisions), list(_history(callees, callers, size.history, at, rng)))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return data


def _history(
    callees: Sequence[tuple[str, str]],
    callers: Sequence[tuple[str, str]],
    count: int,
    at: datetime,
    rng: random.Random,
) -> Iterator[dict[str, object]]:
    """Allowed past calls: one in the last 24 h (more than 10 minutes ago) per callee, the rest
    spread over the 30 days before, so every bench call is still within the frequency caps."""
    for i in range(count):
        callee, tenant = callees[i % len(callees)]
        recent = i < len(callees)
        ago = (
            timedelta(minutes=rng.randint(20, 1400))
            if recent
            else timedelta(hours=rng.randint(25, 720))
        )
        caller = callers[i % len(callers)][0]
        yield {
            "decision_id": f"00000000-0000-4000-8000-{i:012d}",
            "call_id": f"1700000000.{i}",
            "direction": "outbound",
            "presentation": "allowed",
            "caller_raw": caller,
            "caller_e164": caller,
            "callee_raw": callee,
            "callee_e164": callee,
            "tenant": tenant,
            "purpose": "callback",
            "decided_at": at - ago,
            "verdict": "allow",
            "reasons": [],
            "first_reason": None,
            "consent_ref": "crm",
            "policy_version": "cn-2026.1",
            "latency_ms": 1.0,
            "record": True,
            "retention_class": "default",
        }


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __str__(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

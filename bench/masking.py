"""Masking cost on the log path and in audit details: ``dialguard.numbers.mask_text``.

    .venv/bin/python bench/masking.py [--rounds 20000]

Times one call per text class, best of five runs of ``--rounds`` calls each (µs per call): the
gate's per-call log line (no phone number), a log line with E.164 numbers, an audit detail,
free text with a spaced number (the only class that reaches ``phonenumbers``), and the same
with the match cache defeated (a different number each call).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from dialguard.numbers import mask_text

LOG_LINE = (
    '{"ts": "2026-11-25T10:00:00.123+00:00", "level": "info", "logger": "dialguard.agi", '
    '"event": "verdict sent", "call": "1754470000.123", "route": "outbound", '
    '"verdict": "allow", "reason": "ok", "decision_id": "0c3a7e13-5c2b-4d8e-9f3a-2b1c0d9e8f7a", '
    '"reply": 200, "hangup": false, "reply_ms": 1.2}'
)
LOG_NUMBERS = (
    '{"ts": "2026-11-25T10:00:00.123+00:00", "level": "warning", "logger": "dialguard.agi", '
    '"event": "caller not registered", "caller": "+861058001234", "callee": "+8613900139032"}'
)
AUDIT_DETAIL = (
    '{"after":{"added_at":"2026-11-25T02:00:00+00:00","added_by":"cli:root","campaign":null,'
    '"expires_at":null,"number":"+8613900139032","reason":"asked","scope":"global",'
    '"source":"admin","tenant":null},"outcome":"created"}'
)
SPACED = "customer 139 0013 9032 asked not to be called again"


def best_us(call: Callable[[int], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for i in range(rounds):
            call(i)
        best = min(best, time.perf_counter() - started)
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    rounds = parser.parse_args().rounds
    cases: dict[str, Callable[[int], object]] = {
        "log line, no number": lambda _: mask_text(LOG_LINE),
        "log line, E.164 numbers": lambda _: mask_text(LOG_NUMBERS),
        "audit detail (JSON)": lambda _: mask_text(AUDIT_DETAIL),
        "free text, spaced number": lambda _: mask_text(SPACED),
        "same, never seen before": lambda i: mask_text(f"customer 139 {i % 10000:04d} 9032 asked"),
    }
    for name, call in cases.items():
        print(f"{name:28s} {best_us(call, rounds):8.2f} µs")


if __name__ == "__main__":
    main()

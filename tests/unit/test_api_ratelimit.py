"""Token buckets for the public opt-out: burst, refill, retry hints, bounded memory."""

from __future__ import annotations

import pytest

from dialguard.api.ratelimit import KeyedLimiter, retry_after


class Steps:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_waits_for_one_token() -> None:
    clock = Steps()
    limiter = KeyedLimiter(burst=3, per_hour=60, now=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(60.0)
    assert limiter.take("b") == 0.0, "keys have their own buckets"
    clock.now += 60
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_refill_never_exceeds_the_burst() -> None:
    clock = Steps()
    limiter = KeyedLimiter(burst=2, per_hour=3600, now=clock)
    limiter.take("a")
    clock.now += 10_000
    assert [limiter.take("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.take("a") > 0


def test_memory_is_bounded_and_full_buckets_go_first() -> None:
    clock = Steps()
    limiter = KeyedLimiter(burst=1, per_hour=3600, now=clock, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.take(key)
    clock.now += 5  # a, b and c have refilled completely: nothing is lost by forgetting them
    limiter.take("d")
    assert limiter.take("d") > 0, "d, just spent, is remembered"
    assert len(limiter._buckets) <= 3


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert retry_after(0.2) == "1"
    assert retry_after(59.1) == "60"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        KeyedLimiter(burst=0, per_hour=1)

"""Token buckets keyed by client address or phone number, for the public opt-out endpoint.

Time comes from an injected monotonic function (tests step it by hand). Memory stays bounded
under a spray of distinct keys: past ``max_keys`` the buckets that have refilled completely are
forgotten (they carry no state a fresh bucket would not have), and if none has, the oldest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class KeyedLimiter:
    def __init__(
        self,
        burst: int,
        per_hour: int,
        *,
        now: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if burst < 1 or per_hour < 1:
            raise ValueError("a rate limit needs burst >= 1 and per_hour >= 1")
        self.burst = burst
        self.rate = per_hour / 3600.0
        self._now = now
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Spend one token for ``key``: 0.0 if it was there, else the seconds until one is."""
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < self._max_keys:
            return
        full_after = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            del self._buckets[next(iter(self._buckets))]


def retry_after(seconds: float) -> str:
    """An HTTP ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))

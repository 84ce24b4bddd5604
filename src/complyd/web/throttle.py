"""Per-access-key request rate limits (token buckets).

Owns the bucket arithmetic; the app answers an empty bucket with ThrottlingException, which
AWS SDKs retry by themselves. Runs on the event loop thread only, so it needs no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Idle buckets are full again after burst/rate seconds; forget them after this many keys.
_MAX_BUCKETS = 100_000


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= _MAX_BUCKETS and key not in self._buckets:
            self._buckets.clear()
        self._buckets[key] = (tokens, now)
        return allowed

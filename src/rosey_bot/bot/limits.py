"""Token buckets, the outgoing-message limiter and the reconnect backoff.

All take the clock as an argument so they are tested without sleeping.
"""

from __future__ import annotations

import random

# CyTube's shared chat+PM flood limiter (docs/DESIGN.md#flood-limits), and chat_antiflood for ranks < 2.
SERVER_LIMIT = (20.0, 10.0)  # burst, per second
ANTIFLOOD_LIMIT = (4.0, 1.0)
# Stay well inside the server's figures: clocks and network jitter differ on both ends.
BURST_SHARE = 0.5
RATE_SHARE = 0.8


class TokenBucket:
    def __init__(self, capacity: float, rate: float, now: float, tokens: float | None = None):
        self.capacity, self.rate = capacity, rate
        self.tokens = capacity if tokens is None else tokens
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = max(self._at, now)

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def drain(self, now: float) -> None:
        self._refill(now)
        self.tokens = 0.0

    def reshape(self, capacity: float, rate: float, now: float) -> None:
        self._refill(now)
        self.capacity, self.rate = capacity, rate
        self.tokens = min(self.tokens, capacity)


class OutgoingLimiter:
    """Paces chat and PMs under the server's flood limits and slows down on ``cooldown``.

    Until the server tells us our rank and the channel's antiflood setting, we
    assume the strictest case (rank < 2 with chat_antiflood on).
    """

    def __init__(self, now: float):
        self.rank = 0
        self.antiflood: tuple[bool, float, float] = (True, *ANTIFLOOD_LIMIT)
        self._penalty = 1.0  # divides the rate after cooldowns, recovers over time
        self._paused_until = 0.0
        self._recovered_at = now
        self._bucket = TokenBucket(*self._shape(), now)

    def _server_limit(self) -> tuple[float, float]:
        on, burst, sustained = self.antiflood
        if on and self.rank < 2:
            return min(burst, SERVER_LIMIT[0]), min(sustained, SERVER_LIMIT[1])
        return SERVER_LIMIT

    def _shape(self) -> tuple[float, float]:
        burst, rate = self._server_limit()
        return max(1.0, burst * BURST_SHARE), rate * RATE_SHARE / self._penalty

    @property
    def limit(self) -> tuple[float, float]:
        """(burst, per second) the limiter currently allows itself."""
        return self._shape()

    def update(self, now: float, rank: int | None = None, antiflood: tuple[bool, float, float] | None = None) -> None:
        if rank is not None:
            self.rank = rank
        if antiflood is not None:
            self.antiflood = antiflood
        self._bucket.reshape(*self._shape(), now)

    def wait_time(self, now: float) -> float:
        if now < self._paused_until:
            return self._paused_until - now
        self._recover(now)
        return self._bucket.wait_time(now)

    def take(self, now: float) -> bool:
        return now >= self._paused_until and self._bucket.take(now)

    def cooldown(self, ms: float, now: float) -> None:
        """The server dropped a message: pause, empty the bucket and halve our rate."""
        pause = max(ms / 1000, 1 / self._bucket.rate if self._bucket.rate else 1.0)
        self._paused_until = max(self._paused_until, now + min(pause, 10.0))
        self._penalty = min(self._penalty * 2, 64.0)
        self._recovered_at = now
        self._bucket.reshape(*self._shape(), now)
        self._bucket.drain(now)

    def _recover(self, now: float) -> None:
        # After 30 quiet seconds without a cooldown, double the rate back (step by step).
        if self._penalty > 1.0 and now - self._recovered_at >= 30.0:
            self._penalty /= 2
            self._recovered_at = now
            self._bucket.reshape(*self._shape(), now)


class Backoff:
    """Capped exponential backoff with full jitter: sleep uniform(0, min(cap, base * 2**n))."""

    def __init__(self, base: float, cap: float, rng: random.Random | None = None):
        self.base, self.cap = base, cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.attempt, 32))
        self.attempt += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class ConnectLimiter:
    """Never more connects than the server's per-IP bucket (5, refilled 1 per 10 s)."""

    def __init__(self, burst: int, interval: float, now: float):
        self._bucket = TokenBucket(float(burst), 1.0 / interval, now)
        self.interval = interval

    def wait_time(self, now: float) -> float:
        return self._bucket.wait_time(now)

    def take(self, now: float) -> bool:
        return self._bucket.take(now)

    def rate_limited(self, now: float) -> None:
        """The server said "Rate limit exceeded": its bucket is empty, assume ours is too."""
        self._bucket.drain(now)

"""The bot's observable state, shared between the asyncio loop and the HTTP threads.

The bot writes it, the health and metrics endpoints read it. One lock keeps a
reader from seeing a half-updated picture.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Snapshot:
    connected: bool
    channel: str
    uptime_seconds: float
    version: str
    user_count: int
    requests_handled: int
    error_count: int
    recent_error_rate: float  # errors per second over the error window
    storage_ok: bool = True  # database writes succeed
    buffered_rows: int = 0  # recorded, not yet in the database
    dropped_rows: int = 0  # lost because the write buffer was full
    storage_error: str = ""

    def status(self, degraded_error_rate: float) -> str:
        if not self.connected:
            return "unhealthy"
        if not self.storage_ok or self.recent_error_rate > degraded_error_rate:
            return "degraded"
        return "healthy"


class BotState:
    def __init__(self, version: str, channel: str, error_window: float = 300.0, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._started = clock()
        self._window = error_window
        self._errors: deque[float] = deque()
        self.version = version
        self.channel = channel
        self._connected = False
        self._user_count = 0
        self._requests = 0
        self._error_total = 0
        self._storage = (True, 0, 0, "")

    def set_connected(self, connected: bool) -> None:
        with self._lock:
            self._connected = connected

    def set_user_count(self, count: int) -> None:
        with self._lock:
            self._user_count = max(0, int(count))

    def set_storage(self, ok: bool, buffered_rows: int, dropped_rows: int, error: str = "") -> None:
        with self._lock:
            self._storage = (bool(ok), int(buffered_rows), int(dropped_rows), str(error))

    def request_handled(self) -> None:
        with self._lock:
            self._requests += 1

    def error(self) -> None:
        with self._lock:
            self._error_total += 1
            self._errors.append(self._clock())
            self._trim()

    def _trim(self) -> None:
        horizon = self._clock() - self._window
        while self._errors and self._errors[0] < horizon:
            self._errors.popleft()

    def snapshot(self) -> Snapshot:
        with self._lock:
            self._trim()
            now = self._clock()
            return Snapshot(
                connected=self._connected,
                channel=self.channel,
                uptime_seconds=round(now - self._started, 3),
                version=self.version,
                user_count=self._user_count,
                requests_handled=self._requests,
                error_count=self._error_total,
                recent_error_rate=len(self._errors) / self._window,
                storage_ok=self._storage[0],
                buffered_rows=self._storage[1],
                dropped_rows=self._storage[2],
                storage_error=self._storage[3],
            )

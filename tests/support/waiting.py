"""The one way a test waits: poll a condition until a deadline, then fail saying what it waited for."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable

# What an upstream that is still starting raises (connection refused, half-written JSON, a missing key):
# for a caller that passes them as ``errors`` they only mean "ask again".
NOT_READY = (OSError, urllib.error.URLError, ValueError, KeyError)


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    what: str = "condition",
    interval: float = 0.05,
    errors: tuple[type[BaseException], ...] = (),
):
    """Call ``predicate`` until it returns a truthy value and return that value.

    Fails with ``what`` after ``timeout`` seconds; ``errors`` raised by the predicate count as "not yet"
    (the last one is named in the failure). Any other exception ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except errors as exc:
            last_error, value = exc, None
        if value:
            return value
        if time.monotonic() > deadline:
            cause = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}{cause}")
        time.sleep(interval)

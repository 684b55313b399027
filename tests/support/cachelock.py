"""One builder per cache entry when test workers run in parallel (pytest-xdist).

A cache entry (a root filesystem, a set of release builds, a piuparts tarball) is made once and then
shared. Two workers that both miss it would both build it and remove each other's half-made copy;
under this lock the first one builds and the others wait, then find it made.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def building(entry: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``entry`` (a sibling file ``<entry>.lock``) while it is made."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    with open(entry.parent / f"{entry.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the worker dies
        yield


def made_once(entry: Path, is_made: Callable[[], bool], make: Callable[[], None]) -> None:
    """``make()`` the cache entry unless ``is_made()``; under the lock, so that a worker that waited
    for another's build finds it made instead of making it again."""
    if is_made():
        return
    with building(entry):
        if not is_made():
            make()

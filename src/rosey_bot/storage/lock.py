"""Who is using the database: a lock file beside it, `<db>.lock`.

Every open `Database` (the running bot, `migrate`) holds a shared flock on it
for its lifetime; `restore` takes it exclusively and without waiting, so it
refuses while the bot runs instead of replacing a file the bot still writes to.
The kernel drops the lock when the process dies, so a crash never leaves a
stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import StorageError
from .fsutil import lock_path, match_owner

# How long a starting bot waits for a restore in progress to finish.
RESTORE_WAIT_SECONDS = 30.0


def _open(db_path: Path) -> int:
    path = lock_path(db_path)
    try:
        # Read-only is enough for flock, and works on a lock file another user created.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    except OSError as exc:
        raise StorageError(f"cannot open the lock file {path}: {exc.strerror}") from None
    match_owner(path, db_path.parent)
    return fd


def holders(db_path: Path) -> list[int]:
    """Pids holding a lock on the database's lock file (from /proc/locks; empty if unknown)."""
    try:
        st = os.stat(lock_path(db_path), follow_symlinks=False)
        text = Path("/proc/locks").read_text()
    except OSError:
        return []
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = []
    for line in text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  READ 1234 fd:01:5678 0 EOF" (a blocked waiter has "->" after the number)
        if "->" not in fields and len(fields) >= 6 and fields[5] == dev and fields[4].isdigit():
            pids.append(int(fields[4]))
    return sorted(set(pids))


def hold_shared(db_path: Path, wait: float = RESTORE_WAIT_SECONDS) -> int:
    """Take the shared lock (waiting up to `wait` s for a restore); returns the fd that holds it."""
    fd = _open(db_path)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StorageError(
                    f"a restore is replacing the database (it holds {lock_path(db_path)}); start again when it is done"
                ) from None
            time.sleep(0.1)


def release(fd: int) -> None:
    os.close(fd)  # closing the last descriptor drops the flock


@contextlib.contextmanager
def exclusive(db_path: Path) -> Iterator[None]:
    """Hold the database for ourselves, or raise StorageError at once if anyone has it open."""
    fd = _open(db_path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pids = holders(db_path)
            who = f" (process {', '.join(map(str, pids))})" if pids else ""
            raise StorageError(
                f"the database is in use{who}: the bot is running. Stop it first (systemctl stop rosey-bot); "
                "nothing was changed"
            ) from None
        yield
    finally:
        os.close(fd)

"""Root-run storage commands work as the owner of the database directory.

Whoever controls the service account owns /var/lib/rosey-bot and can plant
symbolic links there (for the database, its -wal/-shm, the backup directory).
SQLite opens those names itself, so O_NOFOLLOW alone cannot cover them. A
command run as root therefore first becomes that owner: a planted link then
reaches nothing the service account could not already write. `refuse_links`
(fsutil) adds the clear one-line refusal on top.
"""

from __future__ import annotations

import logging
import os
import pwd
import stat
from pathlib import Path

from .errors import StorageError

log = logging.getLogger("rosey_bot.storage")


def foreign_owner(path: Path) -> os.stat_result | None:
    """The first directory on the way to `path` (inclusive) that root does not own, else None.

    Everything below such a directory is under its owner's control. Links owned
    by root on the way are followed (root made them); missing parts end the walk.
    """
    current = Path("/")
    for part in Path(os.path.abspath(path)).parts[1:]:
        step = current / part
        try:
            st = os.lstat(step)
        except FileNotFoundError:
            return None
        if st.st_uid != 0:
            return st
        if stat.S_ISLNK(st.st_mode):
            return foreign_owner(Path(os.path.realpath(step)))
        current = step
    return None


def drop_to_owner(*dirs: Path) -> int | None:
    """When root, become the owner of the first foreign-owned directory among `dirs`; returns that uid.

    Raises StorageError when the directories belong to different users (no
    single identity can work in all of them safely).
    """
    if os.geteuid() != 0:
        return None
    owners = {st.st_uid: st for d in dirs if (st := foreign_owner(d)) is not None}
    if not owners:
        return None
    if len(owners) > 1:
        names = ", ".join(f"{d} ({_name(foreign_owner(d))})" for d in dirs)
        raise StorageError(f"the directories belong to different users: {names}; run as one owner")
    uid, st = next(iter(owners.items()))
    try:
        entry = pwd.getpwuid(uid)
        os.initgroups(entry.pw_name, entry.pw_gid)
        gid = entry.pw_gid
    except KeyError:
        gid = st.st_gid
        os.setgroups([gid])
    os.setgid(gid)
    os.setuid(uid)
    log.debug("running as uid %d, the owner of the database directory", uid)
    return uid


def _name(st: os.stat_result | None) -> str:
    if st is None:
        return "root"
    try:
        return pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        return str(st.st_uid)

"""File helpers: atomic placement and ownership.

The CLI usually runs as root while the service runs as its own user. A file
root creates in the service's state directory must belong to the service, or
the bot can no longer write its own database.
"""

from __future__ import annotations

import os
from pathlib import Path


def match_owner(path: Path, ref: Path) -> None:
    """Give `path` the owner of `ref` (when we are root and they differ)."""
    if os.geteuid() != 0:
        return
    try:
        st = ref.stat()
        cur = path.stat()
        if (cur.st_uid, cur.st_gid) != (st.st_uid, st.st_gid):
            os.chown(path, st.st_uid, st.st_gid)
    except OSError:
        pass


def make_dir(path: Path, owner_ref: Path | None = None) -> None:
    existed = path.is_dir()
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    if not existed and owner_ref is not None:
        match_owner(path, owner_ref)


def sidecars(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + s) for s in ("-wal", "-shm", "-journal")]

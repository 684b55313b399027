"""File helpers: atomic placement, ownership, and never following a planted link.

The CLI usually runs as root while the service runs as its own user. A file
root creates in the service's state directory must belong to the service, or
the bot can no longer write its own database. And whoever controls the service
account can plant symbolic links in that directory: a root command must refuse
them rather than write through them (see also `privileges`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import StorageError


def match_owner(path: Path, ref: Path) -> None:
    """Give `path` the owner of `ref` (when we are root and they differ); never through a link."""
    if os.geteuid() != 0:
        return
    try:
        st = ref.stat()
        cur = path.lstat()
        if (cur.st_uid, cur.st_gid) != (st.st_uid, st.st_gid):
            os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)
    except OSError:
        pass


def make_dir(path: Path, owner_ref: Path | None = None) -> None:
    refuse_links(path)
    existed = path.is_dir()
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    if not existed and owner_ref is not None:
        match_owner(path, owner_ref)


def sidecars(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + s) for s in ("-wal", "-shm", "-journal")]


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def database_files(db_path: Path) -> list[Path]:
    """Every name SQLite or this package opens beside the database."""
    return [db_path, *sidecars(db_path), lock_path(db_path)]


def refuse_links(*paths: Path) -> None:
    """Raise StorageError if any of `paths` is a symbolic link (a missing path is fine)."""
    for path in paths:
        if path.is_symlink():
            raise StorageError(
                f"{path} is a symbolic link; refusing to follow it (it could point at any file). "
                "Remove it and try again"
            )

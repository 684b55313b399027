"""Backups with SQLite's online backup API, bounded retention, and a validated restore.

A backup is one self-contained file (rollback journal, not WAL) named
`<db stem>-schema<V>-<UTC time>[-<tag>].db`, written to a `.partial` name
first so a crash never leaves a half backup that retention would count.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

from . import lock, schema
from .errors import StorageError
from .fsutil import database_files, make_dir, match_owner, refuse_links, sidecars

log = logging.getLogger("rosey_bot.storage")

DEFAULT_KEEP = 5


def default_backup_dir(db_path: Path | str) -> Path:
    return Path(db_path).parent / "backups"


def _pattern(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(stem)}-schema(\d+)-(\d{{8}}T\d{{6}}\.\d{{6}}Z)(-[a-z-]+)?\.db$")


def list_backups(dest_dir: Path | str, db_path: Path | str) -> list[Path]:
    """This database's backups in `dest_dir`, oldest first (by the time in the name)."""
    dest_dir, pat = Path(dest_dir), _pattern(Path(db_path).stem)
    if not dest_dir.is_dir():
        return []
    found = [(m.group(2), p) for p in dest_dir.iterdir() if (m := pat.match(p.name))]
    return [p for _, p in sorted(found)]


def prune(dest_dir: Path | str, db_path: Path | str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns what was deleted."""
    old = list_backups(dest_dir, db_path)[: -max(1, keep)]
    for p in old:
        p.unlink(missing_ok=True)
        log.info("removed old backup %s", p)
    return old


def backup_connection(
    conn: sqlite3.Connection,
    db_path: Path | str,
    dest_dir: Path | str | None = None,
    keep: int = DEFAULT_KEEP,
    tag: str = "",
) -> Path:
    """Copy the database behind `conn` into `dest_dir`; returns the backup's path."""
    db_path = Path(db_path)
    dest_dir = Path(dest_dir) if dest_dir else default_backup_dir(db_path)
    version = schema.user_version(conn)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    final = dest_dir / f"{db_path.stem}-schema{version}-{stamp}{'-' + tag if tag else ''}.db"
    partial = final.with_name(final.name + ".partial")
    try:
        make_dir(dest_dir, owner_ref=db_path.parent)
        partial.unlink(missing_ok=True)
        refuse_links(partial, final)
        dst = sqlite3.connect(partial)
        try:
            conn.backup(dst)
            # The copy inherits WAL mode; a backup should be one file that opens read-only anywhere.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
        os.replace(partial, final)
        match_owner(final, db_path.parent)
    except (sqlite3.Error, OSError, StorageError) as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise StorageError(f"backup of {db_path} to {dest_dir} failed: {exc}") from None
    log.info("database backed up to %s", final)
    prune(dest_dir, db_path, keep)
    return final


def _connect_existing(db_path: Path) -> sqlite3.Connection:
    refuse_links(*database_files(db_path))
    if not db_path.is_file():
        raise StorageError(f"{db_path}: no such database file")
    # Read-write on purpose: a read-only connection leaves -wal/-shm behind, owned by whoever ran it.
    return sqlite3.connect(db_path, isolation_level=None)


def backup_database(
    db_path: Path | str, dest_dir: Path | str | None = None, keep: int = DEFAULT_KEEP, tag: str = ""
) -> Path:
    """Back up the database file at `db_path` (safe while the bot has it open)."""
    db_path = Path(db_path)
    conn = _connect_existing(db_path)
    try:
        return backup_connection(conn, db_path, dest_dir, keep, tag)
    except sqlite3.Error as exc:
        raise StorageError(f"{db_path}: {exc}") from None
    finally:
        conn.close()


def backup_if_migration_pending(
    db_path: Path | str,
    dest_dir: Path | str | None = None,
    keep: int = DEFAULT_KEEP,
    migrations: list[schema.Migration] = schema.MIGRATIONS,
) -> Path | None:
    """Take a backup when opening `db_path` would change its schema; None when nothing would change."""
    db_path = Path(db_path)
    if not db_path.is_file():
        return None
    conn = _connect_existing(db_path)
    try:
        if schema.user_version(conn) == 0 or not schema.pending(conn, migrations):
            return None
        return backup_connection(conn, db_path, dest_dir, keep, tag="pre-migration")
    except sqlite3.Error as exc:
        raise StorageError(f"{db_path}: {exc}") from None
    finally:
        conn.close()


def validate(path: Path, label: Path | None = None) -> int:
    """Check that `path` is an intact rosey-bot database; returns its schema version.

    Errors name `label` (the file the operator gave) rather than a scratch copy.
    """
    name = label or path
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"{name}: cannot open: {exc}") from None
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise StorageError(f"{name}: integrity check failed: {result[0]}")
        version = schema.user_version(conn)
        if version == 0:
            raise StorageError(f"{name}: not a rosey-bot database (no schema version)")
        missing = schema.missing_columns(conn) if version >= schema.SCHEMA_VERSION else []
        if missing:
            raise StorageError(f"{name}: not a rosey-bot database (lacks {', '.join(missing)})")
        return version
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{name}: not a usable SQLite database: {exc}") from None
    finally:
        conn.close()


def restore(
    backup_path: Path | str, db_path: Path | str, dest_dir: Path | str | None = None, keep: int = DEFAULT_KEEP
) -> Path | None:
    """Replace the database with a validated backup; returns the copy kept of the replaced database.

    The backup is validated on a scratch copy, so a bad file never touches the
    database. Refused while anyone has the database open (the running bot): it
    would keep writing to the file it had open, and those rows would be lost.
    """
    backup_path, db_path = Path(backup_path), Path(db_path)
    scratch = db_path.with_name(f".{db_path.name}.restore")
    refuse_links(backup_path)
    _check_readable(backup_path)
    make_dir(db_path.parent)
    refuse_links(*database_files(db_path), scratch)
    with lock.exclusive(db_path):
        try:
            _copy_new(backup_path, scratch)
            version = validate(scratch, label=backup_path)
            kept = _keep_current(db_path, dest_dir, keep) if db_path.exists() else None
            _replace(scratch, db_path)
        except OSError as exc:
            raise StorageError(f"restore of {db_path} from {backup_path} failed: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                scratch.unlink(missing_ok=True)
    log.info("database %s restored from %s (schema version %d)", db_path, backup_path, version)
    return kept


def _check_readable(path: Path) -> None:
    """A regular file we can read (O_NONBLOCK: a planted FIFO must not hang the command)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise StorageError(f"{path}: no such backup file") from None
    except OSError as exc:
        # Run as root, restore works as the owner of the database directory (see privileges).
        raise StorageError(
            f"{path}: cannot read it ({exc.strerror}); it must be a file the owner of the database "
            "directory can read (copy it into the backup directory)"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StorageError(f"{path}: not a regular file")
    finally:
        os.close(fd)


def _keep_current(db_path: Path, dest_dir: Path | str | None, keep: int) -> Path:
    try:
        # keep + 1: the copy of the replaced database must not push out the backup being restored.
        return backup_database(db_path, dest_dir, keep + 1, tag="pre-restore")
    except StorageError:
        # The current file may be the reason for the restore (corrupt): keep its raw bytes.
        dest = Path(dest_dir) if dest_dir else default_backup_dir(db_path)
        make_dir(dest, owner_ref=db_path.parent)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        raw = dest / f"{db_path.stem}-unreadable-{stamp}.db"
        _copy_new(db_path, raw)
        log.warning("current database is unreadable; kept its raw bytes as %s", raw)
        return raw


def _copy_new(src: Path, dst: Path) -> None:
    """Copy `src` to a new file `dst`: never through a link, never into an existing file."""
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()  # a leftover of an interrupted run (unlinking a link never touches its target)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def _replace(scratch: Path, db_path: Path) -> None:
    if db_path.exists():
        try:
            # Through SQLite, so the file keeps its owner and WAL stays consistent.
            src = sqlite3.connect(scratch)
            dst = sqlite3.connect(db_path)
            try:
                src.backup(dst)
                return
            finally:
                src.close()
                dst.close()
        except sqlite3.Error as exc:
            log.warning("restoring in place failed (%s); replacing the file instead", exc)
    os.replace(scratch, db_path)
    for side in sidecars(db_path):
        side.unlink(missing_ok=True)
    match_owner(db_path, db_path.parent)

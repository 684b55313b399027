"""`db-info`: what is in a database, without migrating or writing to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from . import schema
from .errors import StorageError
from .fsutil import database_files, refuse_links


def inspect(db_path: Path | str) -> dict:
    db_path = Path(db_path)
    refuse_links(*database_files(db_path))
    if not db_path.is_file():
        raise StorageError(f"{db_path}: no such database file")
    try:
        # Read-write connection that never writes: a read-only one would leave -wal/-shm files behind.
        conn = sqlite3.connect(db_path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"{db_path}: cannot open: {exc}") from None
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        version = schema.user_version(conn)
        tables = schema.row_counts(conn)
    except sqlite3.Error as exc:
        raise StorageError(f"{db_path}: not a usable SQLite database: {exc}") from None
    finally:
        conn.close()
    return {
        "path": str(db_path),
        "schema_version": version,
        "code_schema_version": schema.SCHEMA_VERSION,
        "pending_migrations": max(0, schema.SCHEMA_VERSION - version),
        "tables": tables,
        "size_bytes": db_path.stat().st_size,
    }

"""The versioned schema: `PRAGMA user_version` and an ordered list of additive migrations.

Policy (docs/DESIGN.md#migration-rule): every step only adds (tables, nullable or defaulted columns,
indexes). Nothing is dropped, renamed or tightened, so release N keeps working
on the schema release N+1 left behind: it finds every table and column it
knows, and the ones it does not know accept its inserts (they have defaults).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

from .errors import StorageError

log = logging.getLogger("rosey_bot.storage")

Migration = Sequence[str]

# MIGRATIONS[i] brings a database from version i to i + 1. Append only; never edit a released step.
MIGRATIONS: list[Migration] = [
    (  # 1: first schema (per-user stats, chat, PM and media logs, user-count history)
        """CREATE TABLE users (
            name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
            rank INTEGER,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            message_count INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE chat_messages (
            id INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            username TEXT NOT NULL,
            msg TEXT NOT NULL
        )""",
        "CREATE INDEX chat_messages_time ON chat_messages (time_ms)",
        """CREATE TABLE private_messages (
            id INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            username TEXT NOT NULL,
            recipient TEXT NOT NULL,
            msg TEXT NOT NULL
        )""",
        """CREATE TABLE media_log (
            id INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            media_id TEXT NOT NULL,
            title TEXT NOT NULL,
            media_type TEXT NOT NULL,
            duration_s REAL
        )""",
        """CREATE TABLE user_counts (
            id INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            count INTEGER NOT NULL
        )""",
        "CREATE INDEX user_counts_time ON user_counts (time_ms)",
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)

# What this release reads and writes. A newer schema must still have all of it.
KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("name", "rank", "first_seen", "last_seen", "message_count"),
    "chat_messages": ("id", "time_ms", "username", "msg"),
    "private_messages": ("id", "time_ms", "username", "recipient", "msg"),
    "media_log": ("id", "time_ms", "media_id", "title", "media_type", "duration_s"),
    "user_counts": ("id", "time_ms", "count"),
}


def user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def table_names(conn: sqlite3.Connection) -> list[str]:
    sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    return [r[0] for r in conn.execute(sql)]


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table, including tables a newer release added."""
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in table_names(conn)}


def missing_columns(conn: sqlite3.Connection) -> list[str]:
    """Known `table.column`s the database lacks (empty when this code can run on it)."""
    missing = []
    for table, cols in KNOWN_COLUMNS.items():
        have = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        missing += [f"{table}.{c}" for c in cols if c not in have]
    return missing


def pending(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """How many migration steps an open would run."""
    return max(0, len(migrations) - user_version(conn))


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> tuple[int, int]:
    """Run the missing steps, each in its own transaction; returns (version before, version after).

    `conn` must be in autocommit mode (isolation_level=None). A database that is
    newer than `migrations` is left alone: that is the rollback case.
    """
    target = len(migrations)
    start = user_version(conn)
    if start == 0 and table_names(conn):
        raise StorageError("not a rosey-bot database (it has tables but no schema version)")
    while True:
        # IMMEDIATE: a second process opening at the same time waits, then sees the new version.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version >= target:
                conn.execute("COMMIT")
                break
            for statement in migrations[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
            log.info("database schema migrated to version %d", version + 1)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    end = user_version(conn)
    if end > target:
        log.warning(
            "database schema version %d is newer than this release's %d; running on it unchanged "
            "(migrations are additive)",
            end,
            target,
        )
    missing = missing_columns(conn) if end >= SCHEMA_VERSION else []
    if missing:
        raise StorageError(f"schema version {end} lacks what this release needs: {', '.join(missing)}")
    return start, end

"""The bot's database: synchronous, batched writes, safe against any input.

Writes go into one open transaction that `flush()` commits (the bot flushes
about once a second and on stop), so a busy channel costs one fsync a second,
not one per message. Readers on the same object see unflushed writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import backup as backup_mod
from . import sanitize as s
from . import schema
from .errors import StorageError
from .fsutil import make_dir, match_owner

log = logging.getLogger("rosey_bot.storage")

# Commit on our own past this many writes, in case flush() is not called for a long while.
MAX_PENDING = 20_000

_UPSERT_USER = """
INSERT INTO users (name, rank, first_seen, last_seen, message_count) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
    rank = coalesce(excluded.rank, rank),
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen),
    message_count = message_count + excluded.message_count
"""


class Database:
    def __init__(
        self,
        path: Path | str,
        backup_dir: Path | str | None = None,
        backup_keep: int = backup_mod.DEFAULT_KEEP,
        migrations: list[schema.Migration] | None = None,  # tests only: a later release's schema
    ):
        self.path = Path(path)
        self.backup_dir = Path(backup_dir) if backup_dir else backup_mod.default_backup_dir(self.path)
        self.backup_keep = backup_keep
        self._lock = threading.RLock()
        self._pending = 0
        self._conn: sqlite3.Connection | None = None
        try:
            make_dir(self.path.parent)
            created = not self.path.exists()
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn = conn
            if created:
                match_owner(self.path, self.path.parent)
            conn.execute("PRAGMA busy_timeout = 5000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                log.warning("%s: WAL mode not available (journal mode %s)", self.path, mode)
            # NORMAL in WAL mode: a power cut may lose the last commits, never the database.
            conn.execute("PRAGMA synchronous = NORMAL")
            steps = migrations if migrations is not None else schema.MIGRATIONS
            if schema.user_version(conn) and schema.pending(conn, steps):
                backup_mod.backup_connection(conn, self.path, self.backup_dir, backup_keep, tag="pre-migration")
            try:
                self.schema_version = schema.migrate(conn, steps)[1]
            except StorageError as exc:
                raise StorageError(f"{self.path}: {exc}") from None
        except (sqlite3.Error, OSError) as exc:
            self._abandon()
            raise StorageError(f"{self.path}: {exc}") from None
        except StorageError:
            self._abandon()
            raise

    def _abandon(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._live()
            try:
                if not conn.in_transaction:
                    conn.execute("BEGIN")
                yield conn
                self._pending += 1
                if self._pending >= MAX_PENDING:
                    self._commit()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: write failed: {exc}") from None

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"{self.path}: database is closed")
        return self._conn

    def _commit(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            self._conn.execute("COMMIT")
        self._pending = 0

    # --- writes -----------------------------------------------------------------

    def record_chat(self, username: object, msg: object, time_ms: object) -> None:
        name, t = s.text(username, s.MAX_NAME), s.time_ms(time_ms)
        with self._write() as c:
            row = (t, name, s.text(msg, s.MAX_TEXT))
            c.execute("INSERT INTO chat_messages (time_ms, username, msg) VALUES (?, ?, ?)", row)
            if name:
                c.execute(_UPSERT_USER, (name, None, t, t, 1))

    def record_pm(self, username: object, to: object, msg: object, time_ms: object) -> None:
        row = (s.time_ms(time_ms), s.text(username, s.MAX_NAME), s.text(to, s.MAX_NAME), s.text(msg, s.MAX_TEXT))
        with self._write() as c:
            c.execute("INSERT INTO private_messages (time_ms, username, recipient, msg) VALUES (?, ?, ?, ?)", row)

    def record_media(
        self, media_id: object, title: object, media_type: object, duration_s: object, time_ms: object
    ) -> None:
        row = (
            s.time_ms(time_ms),
            s.text(media_id, s.MAX_TITLE),
            s.text(title, s.MAX_TITLE),
            s.text(media_type, s.MAX_TYPE),
            s.number(duration_s),
        )
        with self._write() as c:
            c.execute(
                "INSERT INTO media_log (time_ms, media_id, title, media_type, duration_s) VALUES (?, ?, ?, ?, ?)", row
            )

    def user_joined(self, name: object, rank: object, time_ms: object) -> None:
        name, t = s.text(name, s.MAX_NAME), s.time_ms(time_ms)
        if not name:
            return
        with self._write() as c:
            c.execute(_UPSERT_USER, (name, s.integer(rank, default=0, lo=-1, hi=2**31 - 1), t, t, 0))

    def user_left(self, name: object, time_ms: object) -> None:
        name, t = s.text(name, s.MAX_NAME), s.time_ms(time_ms)
        if not name:
            return
        with self._write() as c:
            c.execute(_UPSERT_USER, (name, None, t, t, 0))

    def record_user_count(self, count: object, time_ms: object) -> None:
        row = (s.time_ms(time_ms), s.integer(count, default=0, hi=2**31 - 1))
        with self._write() as c:
            c.execute("INSERT INTO user_counts (time_ms, count) VALUES (?, ?)", row)

    # --- reads ------------------------------------------------------------------

    def user_stats(self, name: object) -> dict | None:
        name = s.text(name, s.MAX_NAME)
        with self._lock:
            try:
                row = (
                    self._live()
                    .execute(
                        "SELECT name, rank, first_seen, last_seen, message_count FROM users WHERE name = ?", (name,)
                    )
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: read failed: {exc}") from None
        if row is None:
            return None
        keys = ("name", "rank", "first_seen", "last_seen", "message_count")
        return dict(zip(keys, row, strict=True))

    def summary(self) -> dict:
        """{"schema_version": int, "tables": {table: rows}, "users_known": int}; unknown (newer) tables included."""
        with self._lock:
            try:
                conn = self._live()
                tables = schema.row_counts(conn)
                version = schema.user_version(conn)
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: read failed: {exc}") from None
        return {"schema_version": version, "tables": tables, "users_known": tables.get("users", 0)}

    # --- lifecycle --------------------------------------------------------------

    def flush(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._commit()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: commit failed: {exc}") from None

    def backup(self, dest_dir: Path | str | None = None) -> Path:
        """Flush, then copy the database into `dest_dir` (default: the configured backup dir)."""
        with self._lock:
            self.flush()
            return backup_mod.backup_connection(self._live(), self.path, dest_dir or self.backup_dir, self.backup_keep)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self.flush()
            finally:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

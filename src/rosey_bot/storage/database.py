"""The bot's database: batched writes that survive a failing disk, safe against any input.

Writes go into one open transaction that `flush()` commits (the bot flushes
about once a second and on stop), so a busy channel costs one fsync a second,
not one per message. Readers on the same object see unflushed writes.

Every row recorded since the last commit is also kept in memory. When a write
or commit fails (disk full, read-only file, database locked by someone else)
the transaction is rolled back, the database reports itself failing, and new
rows only join that list, up to `buffer_rows`; past it they are dropped and
counted. Each `flush()` then tries to write the whole list again in one
transaction; once it succeeds, nothing recorded in between is lost. Recording
never raises for a failing disk, so the bot keeps answering its channel. One
log line says when writes start failing, one when the buffer overflows, one
when they recover.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from . import backup as backup_mod
from . import lock, schema
from . import sanitize as s
from .errors import StorageError
from .fsutil import database_files, make_dir, match_owner, refuse_links

log = logging.getLogger("rosey_bot.storage")

# Commit on our own past this many writes, in case flush() is not called for a long while.
MAX_PENDING = 20_000

# Rows kept in memory while writes fail. A row is one event (a chat line, a join...):
# typically 100-300 bytes, at most about 5 kB (length caps in sanitize), so this is at most
# ~100 MB and usually a few MB; a busy channel fills it in hours, not minutes.
BUFFER_ROWS = 20_000

# Waiting for another process's write lock blocks the bot's event loop: keep it short once
# open (a retry comes with the next flush anyway); opening and migrating may wait longer.
OPEN_BUSY_TIMEOUT_MS = 5000
WRITE_BUSY_TIMEOUT_MS = 250

_UPSERT_USER = """
INSERT INTO users (name, rank, first_seen, last_seen, message_count) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
    rank = coalesce(excluded.rank, rank),
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen),
    message_count = message_count + excluded.message_count
"""

# Primary SQLite result codes after which a retry opens a fresh connection:
# SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN.
_REOPEN_ON = {8, 10, 14}

# One recorded event: the statements that store it, with their parameters.
Row = tuple[tuple[str, tuple], ...]


@dataclass(frozen=True)
class WriteStatus:
    ok: bool  # the last write (or commit) succeeded
    buffered_rows: int  # recorded, not yet committed
    dropped_rows: int  # lost since start because the buffer was full
    error: str = ""  # why writes fail, while they do


class Database:
    def __init__(
        self,
        path: Path | str,
        backup_dir: Path | str | None = None,
        backup_keep: int = backup_mod.DEFAULT_KEEP,
        migrations: list[schema.Migration] | None = None,  # tests only: a later release's schema
        buffer_rows: int | None = None,  # default BUFFER_ROWS
    ):
        self.path = Path(path)
        self.backup_dir = Path(backup_dir) if backup_dir else backup_mod.default_backup_dir(self.path)
        self.backup_keep = backup_keep
        self.buffer_rows = max(1, BUFFER_ROWS if buffer_rows is None else buffer_rows)
        self._lock = threading.RLock()
        self._unsaved: list[Row] = []  # every row since the last commit, in order
        self._failing = ""  # the write error while writes fail
        self._dropped = 0
        self._overflowed = False  # logged the overflow of this outage already
        self._stale = False  # the next retry needs a fresh connection
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        try:
            make_dir(self.path.parent)
            refuse_links(*database_files(self.path))
            self._lock_fd = lock.hold_shared(self.path)
            created = not self.path.exists()
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn = conn
            if created:
                match_owner(self.path, self.path.parent)
            conn.execute(f"PRAGMA busy_timeout = {OPEN_BUSY_TIMEOUT_MS}")
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
            conn.execute(f"PRAGMA busy_timeout = {WRITE_BUSY_TIMEOUT_MS}")
        except (sqlite3.Error, OSError) as exc:
            self._abandon()
            raise StorageError(f"{self.path}: {exc}") from None
        except StorageError as exc:
            self._abandon()
            if str(self.path) in str(exc):
                raise
            raise StorageError(f"{self.path}: {exc}") from None

    def _abandon(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            lock.release(self._lock_fd)
            self._lock_fd = None

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"{self.path}: database is closed")
        return self._conn

    # --- the write path -----------------------------------------------------------

    def _record(self, row: Row) -> None:
        with self._lock:
            conn = self._live()
            if self._failing:
                self._keep(row)
                return
            self._unsaved.append(row)
            try:
                if not conn.in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                for sql, params in row:
                    conn.execute(sql, params)
            except sqlite3.Error as exc:
                self._fail(exc)
                return
            if len(self._unsaved) >= min(MAX_PENDING, self.buffer_rows):
                self._commit()

    def _keep(self, row: Row) -> None:
        if len(self._unsaved) < self.buffer_rows:
            self._unsaved.append(row)
            return
        self._dropped += 1
        if not self._overflowed:
            self._overflowed = True
            log.error(
                "%s: write buffer full (%d rows); dropping new rows until writes succeed again "
                "(counted in bot_storage_dropped_rows_total)",
                self.path,
                self.buffer_rows,
            )

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None and conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def _fail(self, exc: sqlite3.Error) -> None:
        """A write or commit failed: undo the partial transaction; the rows stay in `_unsaved`."""
        self._rollback()
        error = str(exc) or type(exc).__name__
        self._stale = getattr(exc, "sqlite_errorcode", 0) & 0xFF in _REOPEN_ON
        if not self._failing:
            log.error(
                "%s: database writes are failing (%s); keeping up to %d rows in memory and retrying every flush",
                self.path,
                error,
                self.buffer_rows,
            )
        self._failing = error

    def _commit(self) -> None:
        conn = self._live()
        try:
            if conn.in_transaction:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._fail(exc)
            return
        self._unsaved.clear()

    def _reopen(self) -> None:
        """Swap in a fresh connection: SQLite opens a file it may not write read-only, for good,
        so without this a database made writable again would stay read-only until a restart."""
        refuse_links(*database_files(self.path))
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {WRITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            conn.close()
            raise
        old, self._conn = self._live(), conn
        with contextlib.suppress(sqlite3.Error):
            old.close()

    def _retry(self) -> None:
        """Write every kept row in one transaction; on success writes are healthy again."""
        try:
            if self._stale:
                self._reopen()
                self._stale = False
        except (sqlite3.Error, StorageError) as exc:
            self._failing = str(exc) or type(exc).__name__
            return
        conn = self._live()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for row in self._unsaved:
                for sql, params in row:
                    conn.execute(sql, params)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._failing = str(exc) or type(exc).__name__
            self._stale = getattr(exc, "sqlite_errorcode", 0) & 0xFF in _REOPEN_ON
            return
        written, dropped = len(self._unsaved), self._dropped
        self._unsaved.clear()
        self._failing = ""
        self._overflowed = False
        log.warning(
            "%s: database writes recovered; %d kept rows written (%d dropped since start)",
            self.path,
            written,
            dropped,
        )

    def write_status(self) -> WriteStatus:
        with self._lock:
            return WriteStatus(not self._failing, len(self._unsaved), self._dropped, self._failing)

    # --- writes -----------------------------------------------------------------

    def record_chat(self, username: object, msg: object, time_ms: object) -> None:
        name, t = s.text(username, s.MAX_NAME), s.time_ms(time_ms)
        insert = (
            "INSERT INTO chat_messages (time_ms, username, msg) VALUES (?, ?, ?)",
            (t, name, s.text(msg, s.MAX_TEXT)),
        )
        self._record((insert, (_UPSERT_USER, (name, None, t, t, 1))) if name else (insert,))

    def record_pm(self, username: object, to: object, msg: object, time_ms: object) -> None:
        row = (s.time_ms(time_ms), s.text(username, s.MAX_NAME), s.text(to, s.MAX_NAME), s.text(msg, s.MAX_TEXT))
        self._record((("INSERT INTO private_messages (time_ms, username, recipient, msg) VALUES (?, ?, ?, ?)", row),))

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
        sql = "INSERT INTO media_log (time_ms, media_id, title, media_type, duration_s) VALUES (?, ?, ?, ?, ?)"
        self._record(((sql, row),))

    def user_joined(self, name: object, rank: object, time_ms: object) -> None:
        name, t = s.text(name, s.MAX_NAME), s.time_ms(time_ms)
        if name:
            self._record(((_UPSERT_USER, (name, s.integer(rank, default=0, lo=-1, hi=2**31 - 1), t, t, 0)),))

    def user_left(self, name: object, time_ms: object) -> None:
        name, t = s.text(name, s.MAX_NAME), s.time_ms(time_ms)
        if name:
            self._record(((_UPSERT_USER, (name, None, t, t, 0)),))

    def record_user_count(self, count: object, time_ms: object) -> None:
        row = (s.time_ms(time_ms), s.integer(count, default=0, hi=2**31 - 1))
        self._record((("INSERT INTO user_counts (time_ms, count) VALUES (?, ?)", row),))

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

    def flush(self) -> WriteStatus:
        """Commit what was recorded (or, while writes fail, try all kept rows again). Never raises."""
        with self._lock:
            if self._conn is not None:
                if self._failing:
                    self._retry()
                else:
                    self._commit()
            return self.write_status()

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
                status = self.flush()
                if not status.ok and status.buffered_rows:
                    log.error(
                        "%s: closing with %d rows that could not be written (%s); they are lost",
                        self.path,
                        status.buffered_rows,
                        status.error,
                    )
            finally:
                self._abandon()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

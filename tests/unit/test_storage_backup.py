"""Backups with the SQLite backup API, retention, and a restore that refuses bad files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from rosey_bot.storage import (
    SCHEMA_VERSION,
    Database,
    StorageError,
    backup_database,
    backup_if_migration_pending,
    list_backups,
    restore,
    schema,
)


def dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        tables = schema.table_names(conn)
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"'), key=repr) for t in tables} | {
            "user_version": [(schema.user_version(conn),)]
        }
    finally:
        conn.close()


def populate(db: Database, n: int = 50, t0: int = 1_000) -> None:
    for i in range(n):
        name = f"user{i % 7}"
        db.user_joined(name, i % 4, t0 + i)
        db.record_chat(name, f"message {i} ✓ {'ü' * (i % 5)}", t0 + i)
        db.record_pm(name, "rosey", f"pm {i}", t0 + i)
        db.record_media(f"yt:{i}", f"title {i}", "yt", i * 1.5, t0 + i)
        db.record_user_count(i, t0 + i)
        if i % 3 == 0:
            db.user_left(name, t0 + i)
    db.flush()


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "state" / "rosey.db"
    with Database(path) as db:
        populate(db)
    return path


def test_backup_restore_round_trips_every_row_of_every_table(db_path, tmp_path):
    before = dump(db_path)
    with Database(db_path) as db:
        taken = db.backup(tmp_path / "bk")
        populate(db, n=20, t0=90_000)  # changes after the backup
    assert dump(db_path) != before
    kept = restore(taken, db_path, tmp_path / "bk")
    assert dump(db_path) == before
    assert kept is not None and kept.name.endswith("-pre-restore.db")
    assert dump(kept)["chat_messages"] != before["chat_messages"]  # the replaced state is kept
    with Database(db_path) as db:  # and the bot can carry on with the restored database
        db.record_chat("user1", "after restore", 99_999)


def test_backup_is_one_named_file_taken_with_unflushed_writes(db_path):
    db = Database(db_path)
    db.record_chat("late", "not yet flushed", 5)
    taken = db.backup()
    db.close()
    assert taken.parent == db_path.parent / "backups"
    assert taken.name.startswith(f"rosey-schema{SCHEMA_VERSION}-") and taken.name.endswith("Z.db")
    assert sorted(p.name for p in taken.parent.iterdir()) == [taken.name]  # no -wal, no .partial
    conn = sqlite3.connect(f"file:{taken}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM chat_messages WHERE username = 'late'").fetchone()[0] == 1
    conn.close()


def test_backup_of_a_database_another_connection_is_writing(db_path, tmp_path):
    with Database(db_path) as live:
        live.record_chat("x", "committed", 1)
        live.flush()
        live.record_chat("x", "in the open batch", 2)
        taken = backup_database(db_path, tmp_path / "bk")
    rows = dump(taken)["chat_messages"]
    assert any(r[3] == "committed" for r in rows) and not any(r[3] == "in the open batch" for r in rows)


def test_retention_keeps_only_the_newest_backups(db_path, tmp_path):
    dest = tmp_path / "bk"
    (dest).mkdir()
    (dest / "unrelated.txt").write_text("not a backup")
    taken = [backup_database(db_path, dest, keep=3) for _ in range(6)]
    assert list_backups(dest, db_path) == taken[-3:]
    assert (dest / "unrelated.txt").exists()


def test_a_pending_migration_is_backed_up_first(db_path, tmp_path):
    before = dump(db_path)
    nxt = [*schema.MIGRATIONS, ("CREATE TABLE later (x INTEGER)",)]
    assert backup_if_migration_pending(db_path, tmp_path / "bk") is None  # up to date: nothing to do
    assert backup_if_migration_pending(tmp_path / "missing.db", tmp_path / "bk") is None
    taken = backup_if_migration_pending(db_path, tmp_path / "bk", migrations=nxt)
    assert taken is not None and taken.name.endswith("-pre-migration.db") and dump(taken) == before


def _corrupt_copy(src: Path, dest: Path) -> Path:
    data = bytearray(src.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : 3 * page] = b"\xa5" * page  # smash a b-tree page in the middle
    dest.write_bytes(bytes(data))
    return dest


def _index_mismatch_copy(src: Path, dest: Path) -> Path:
    """A file that opens and reads fine but fails PRAGMA integrity_check (an index missing a row)."""
    dest.write_bytes(src.read_bytes())
    conn = sqlite3.connect(dest, isolation_level=None)
    row = conn.execute("SELECT * FROM sqlite_master WHERE name = 'chat_messages_time'").fetchone()
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("DELETE FROM sqlite_master WHERE name = 'chat_messages_time'")
    conn.close()
    conn = sqlite3.connect(dest, isolation_level=None)
    conn.execute("INSERT INTO chat_messages (time_ms, username, msg) VALUES (1, 'ghost', 'not in the index')")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("INSERT INTO sqlite_master VALUES (?, ?, ?, ?, ?)", row)
    conn.close()
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0
    conn.close()
    return dest


@pytest.mark.parametrize(
    "kind", ["random", "empty", "truncated", "corrupt-page", "index-mismatch", "foreign", "missing"]
)
def test_restore_refuses_a_bad_backup_and_leaves_the_database_intact(db_path, tmp_path, kind):
    good = backup_database(db_path, tmp_path / "bk")
    bad = tmp_path / f"{kind}.db"
    if kind == "random":
        bad.write_bytes(bytes(range(256)) * 64)
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[:5000])
    elif kind == "corrupt-page":
        _corrupt_copy(good, bad)
    elif kind == "index-mismatch":
        _index_mismatch_copy(good, bad)
    elif kind == "foreign":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE t (x)")
        conn.close()
    before = dump(db_path)
    with pytest.raises(StorageError, match=str(bad.name)):
        restore(bad, db_path, tmp_path / "bk")
    assert dump(db_path) == before
    assert list_backups(tmp_path / "bk", db_path) == [good]  # nothing replaced, so nothing kept
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["rosey.db", "rosey.db.lock"]  # no scratch copy


def test_restore_over_a_corrupt_database_keeps_its_raw_bytes(db_path, tmp_path):
    good = backup_database(db_path, tmp_path / "bk")
    before = dump(good)
    broken = b"garbage where the database was" * 10
    db_path.write_bytes(broken)
    kept = restore(good, db_path, tmp_path / "bk")
    assert dump(db_path) == before
    assert kept is not None and kept.read_bytes() == broken


def test_restore_into_an_empty_place(db_path, tmp_path):
    good = backup_database(db_path, tmp_path / "bk")
    target = tmp_path / "fresh" / "rosey.db"
    assert restore(good, target, tmp_path / "bk") is None
    assert dump(target) == dump(good)


def test_restore_of_a_newer_schema_backup_is_accepted(tmp_path):
    path = tmp_path / "rosey.db"
    with Database(path, migrations=[*schema.MIGRATIONS, ("CREATE TABLE later (x INTEGER)",)]) as newer:
        populate(newer, n=5)
        taken = newer.backup(tmp_path / "bk")
    target = tmp_path / "other.db"
    restore(taken, target)
    assert dump(target) == dump(taken)
    assert dump(target)["user_version"] == [(SCHEMA_VERSION + 1,)]


def test_files_made_by_root_belong_to_the_owner_of_the_state_directory(tmp_path):
    # The CLI runs as root, the service as its own user: what root creates must stay usable by the service.
    state = tmp_path / "state"
    state.mkdir()
    owner = 65534 if os.geteuid() == 0 else os.geteuid()
    if os.geteuid() == 0:
        os.chown(state, owner, owner)
    with Database(state / "rosey.db") as db:
        db.record_chat("a", "b", 1)
        taken = db.backup()
    kept = restore(taken, state / "rosey.db")
    for path in (state / "rosey.db", taken.parent, taken, kept):
        assert path.stat().st_uid == owner, path

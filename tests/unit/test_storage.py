"""Database behaviour: schema, migrations, the rollback rule, batching, odd input."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rosey_bot.storage import SCHEMA_VERSION, Database, StorageError, list_backups, sanitize, schema

# A later release's migration N+1, as the policy allows it: a new table, new columns with defaults.
NEXT_RELEASE = (
    "CREATE TABLE reactions (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, emoji TEXT NOT NULL)",
    "ALTER TABLE chat_messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE users ADD COLUMN nickname TEXT",
)
NEXT_MIGRATIONS = [*schema.MIGRATIONS, NEXT_RELEASE]


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), read by a separate connection."""
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"'), key=repr) for t in schema.table_names(conn)}
    finally:
        conn.close()


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return schema.user_version(conn)
    finally:
        conn.close()


def exercise(db: Database, tag: str, t0: int = 1_000, fresh: bool = True) -> None:
    """Call every write method once (per tag) and check what the reads say."""
    db.user_joined(f"alice{tag}", 2, t0)
    db.record_chat(f"alice{tag}", f"hello {tag}", t0 + 1)
    db.record_chat(f"alice{tag}", f"again {tag}", t0 + 2)
    db.record_pm(f"bob{tag}", "rosey", f"status {tag}", t0 + 3)
    db.record_media(f"yt:{tag}", f"Song {tag}", "yt", 215, t0 + 4)
    db.record_user_count(3, t0 + 5)
    db.user_left(f"alice{tag}", t0 + 6)
    db.flush()
    stats = db.user_stats(f"ALICE{tag}")
    assert stats is not None
    if fresh:
        assert (stats["first_seen"], stats["last_seen"], stats["message_count"], stats["rank"]) == (t0, t0 + 6, 2, 2)
    else:
        assert stats["last_seen"] == t0 + 6


def fill_generic(path: Path, rows: int = 3) -> None:
    """Put rows into every table of whatever schema version the file has (for migration tests)."""
    conn = sqlite3.connect(path)
    with conn:
        for table in schema.table_names(conn):
            cols = [(r[1], r[2].upper()) for r in conn.execute(f'PRAGMA table_info("{table}")')]
            for i in range(rows):
                values = [
                    i + 1 if "INT" in kind else 1.5 + i if "REAL" in kind else f"{name}-{i}" for name, kind in cols
                ]
                marks = ", ".join("?" * len(cols))
                conn.execute(f'INSERT INTO "{table}" VALUES ({marks})', values)
    conn.close()


def make_at_version(path: Path, version: int, migrations=schema.MIGRATIONS) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, migrations[:version])
    conn.close()
    assert version_of(path) == version


# --- schema and migrations -------------------------------------------------------


def test_new_database_is_created_with_parents_in_wal_mode_at_this_schema(tmp_path):
    path = tmp_path / "a" / "b" / "rosey.db"
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
    assert version_of(path) == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema.missing_columns(conn) == []
    conn.close()
    assert not (tmp_path / "a" / "b" / "backups").exists()  # nothing to back up on a fresh database


@pytest.mark.parametrize("start", range(SCHEMA_VERSION))
def test_migration_from_each_older_version_keeps_rows_and_backs_up_first(tmp_path, start):
    path = tmp_path / "rosey.db"
    make_at_version(path, start)
    fill_generic(path)
    before = dump(path)
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
        exercise(db, "x")
    after = dump(path)
    for table, rows in before.items():
        assert set(rows) <= {r[: len(rows[0])] for r in after[table]}
    backups = list_backups(tmp_path / "backups", path)
    if start == 0:
        assert backups == []
    else:
        assert len(backups) == 1 and f"schema{start}-" in backups[0].name
        assert dump(backups[0]) == before


@pytest.mark.parametrize("start", range(len(NEXT_MIGRATIONS)))
def test_migration_chain_steps_through_every_version_to_a_later_release(tmp_path, start):
    path = tmp_path / "rosey.db"
    make_at_version(path, start)
    if start:
        fill_generic(path)
    before = dump(path)
    with Database(path, migrations=NEXT_MIGRATIONS) as db:
        assert db.schema_version == SCHEMA_VERSION + 1
    after = dump(path)
    assert "reactions" in after
    for table, rows in before.items():
        assert set(rows) == {r[: len(rows[0])] for r in after[table]} if rows else after[table] == []
    assert len(list_backups(tmp_path / "backups", path)) == (1 if start else 0)


def test_a_failing_migration_step_changes_nothing(tmp_path):
    path = tmp_path / "rosey.db"
    with Database(path) as db:
        exercise(db, "1")
    before = dump(path)
    broken = [*schema.MIGRATIONS, ("CREATE TABLE half_done (x)", "THIS IS NOT SQL")]
    with pytest.raises(StorageError):
        Database(path, migrations=broken)
    assert version_of(path) == SCHEMA_VERSION
    assert dump(path) == before  # no half_done table: the step ran in one transaction


def test_a_database_of_another_program_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, secret TEXT)")
    conn.execute("INSERT INTO accounts VALUES (1, 's')")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="not a rosey-bot database"):
        Database(path)
    assert dump(path) == {"accounts": [(1, "s")]}
    assert version_of(path) == 0


def test_garbage_file_raises_storage_error_and_is_left_alone(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match="bad.db"):
        Database(bad)
    assert bad.read_bytes() == b"this is not sqlite at all" * 100


def test_unopenable_path_raises_storage_error(tmp_path):
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StorageError, match="dir.db"):
        Database(tmp_path / "dir.db")


# --- the rollback rule (docs/DESIGN.md#migration-rule) ------------------------------------------------


def test_this_release_runs_on_the_schema_of_the_next_release_and_loses_no_rows(tmp_path):
    path = tmp_path / "rosey.db"
    # Release N+1 migrates and writes, including into what only it knows.
    with Database(path, migrations=NEXT_MIGRATIONS) as newer:
        exercise(newer, "new")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO reactions (chat_id, emoji) VALUES (1, '👍')")
        conn.execute("UPDATE chat_messages SET edited = 1 WHERE msg = 'hello new'")
        conn.execute("UPDATE users SET nickname = 'Al' WHERE name = 'alicenew'")
    conn.close()
    before = dump(path)

    # Downgrade: release N opens it, every method works, nothing is dropped or rewritten.
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION + 1
        exercise(db, "old", t0=5_000)
        exercise(db, "new", t0=9_000, fresh=False)  # updates a row N+1 wrote
        summary = db.summary()
        assert summary["schema_version"] == SCHEMA_VERSION + 1
        assert summary["tables"]["reactions"] == 1
        assert summary["users_known"] == 2  # alicenew, aliceold (a PM sender is not a channel user)
    assert version_of(path) == SCHEMA_VERSION + 1
    after = dump(path)
    assert after["reactions"] == before["reactions"]
    for table in ("chat_messages", "private_messages", "media_log", "user_counts"):
        assert set(before[table]) < set(after[table])
    assert ("alicenew", 2, 1_000, 9_006, 4, "Al") in after["users"]  # N+1's column kept its value
    assert any(r[2:] == ("aliceold", "hello old", 0) for r in after["chat_messages"])  # default for N+1's column
    assert list_backups(tmp_path / "backups", path) == []  # N migrates nothing on N+1's schema

    # And N+1 still opens what N left behind.
    with Database(path, migrations=NEXT_MIGRATIONS) as newer_again:
        assert newer_again.user_stats("aliceold")["message_count"] == 2


def test_missing_known_columns_are_reported_not_ignored(tmp_path):
    path = tmp_path / "rosey.db"
    # A hypothetical non-additive N+1 that dropped a column this release needs.
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE media_log DROP COLUMN duration_s")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="media_log.duration_s"):
        Database(path)


# --- writes and reads -------------------------------------------------------------


def test_record_chat_keeps_per_user_statistics_case_insensitively(tmp_path):
    with Database(tmp_path / "r.db") as db:
        assert db.user_stats("Carol") is None
        db.record_chat("Carol", "hi", 2_000)
        db.record_chat("carol", "late reply replayed", 1_500)  # the server replays old lines on join
        db.user_joined("CAROL", 1, 2_500)
        stats = db.user_stats("carol")
        assert stats == {"name": "Carol", "rank": 1, "first_seen": 1_500, "last_seen": 2_500, "message_count": 2}
        db.user_left("Carol", 3_000)
        assert db.user_stats("Carol")["last_seen"] == 3_000
        assert db.user_stats("Carol")["rank"] == 1  # leaving does not forget the rank


def test_writes_are_batched_until_flush_and_close_flushes(tmp_path):
    path = tmp_path / "r.db"
    db = Database(path)
    db.record_chat("dave", "one", 1)
    db.record_user_count(7, 1)
    assert db.summary()["tables"]["chat_messages"] == 1  # the writer sees its own batch
    assert dump(path)["chat_messages"] == []  # another reader does not, yet
    db.flush()
    assert dump(path)["chat_messages"] == [(1, 1, "dave", "one")]
    db.record_pm("dave", "rosey", "status", 2)
    db.close()
    db.close()  # idempotent
    assert dump(path)["private_messages"] == [(1, 2, "dave", "rosey", "status")]
    with pytest.raises(StorageError, match="closed"):
        db.record_chat("dave", "after close", 3)
    db.flush()  # harmless after close


def test_summary_counts_rows_per_table_and_users(tmp_path):
    with Database(tmp_path / "r.db") as db:
        exercise(db, "1")
        exercise(db, "2")
        s = db.summary()
    assert s == {
        "schema_version": SCHEMA_VERSION,
        "tables": {"chat_messages": 4, "media_log": 2, "private_messages": 2, "user_counts": 2, "users": 2},
        "users_known": 2,
    }


def test_odd_input_is_stored_sanitised_never_raised(tmp_path):
    path = tmp_path / "r.db"
    huge = "x" * 1_000_000
    with Database(path) as db:
        db.record_chat("eve\x00", "a\x00b\ud800c", float("nan"))
        db.record_chat(None, huge, "not a time")
        db.record_chat(12345, b"bytes", 10**30)
        db.record_pm(object(), None, ["list"], -5)
        db.record_media(None, huge, {"t": 1}, float("inf"), None)
        db.record_media("id", "title", "yt", "215.5", 1)
        db.user_joined(huge, "mod", 1)
        db.user_joined("", 3, 1)
        db.user_left(None, None)
        db.record_user_count(-3, 1)
        db.record_user_count("lots", 1)
        db.record_user_count(10**40, 1)
        assert db.user_stats(huge) is not None
    rows = dump(path)
    chat = {r[2]: r for r in rows["chat_messages"]}
    assert chat["eve\ufffd"][3] == "a\ufffdb?c"
    assert chat[""][3] == "x" * sanitize.MAX_TEXT
    assert chat["12345"][1] == sanitize.INT64_MAX and chat["12345"][3] == "b'bytes'"
    assert all(len(r[0]) <= sanitize.MAX_NAME for r in rows["users"])
    assert sorted(r[2] for r in rows["user_counts"]) == [0, 0, 2**31 - 1]
    assert {r[5] for r in rows["media_log"]} == {None, 215.5}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(st.text(alphabet=st.characters(), max_size=100), st.none(), st.integers()),
    msg=st.one_of(st.text(alphabet=st.characters(), max_size=5000), st.binary(max_size=50), st.none()),
    t=st.one_of(st.integers(), st.floats(), st.none(), st.text(max_size=5)),
)
def test_any_chat_event_is_stored_and_read_back(name, msg, t):
    with tempfile.TemporaryDirectory() as d, Database(Path(d) / "p.db") as db:
        db.record_chat(name, msg, t)
        db.record_pm(name, name, msg, t)
        db.record_media(msg, msg, name, t, t)
        db.user_joined(name, t, t)
        db.user_left(name, t)
        db.record_user_count(t, t)
        stats = db.user_stats(name)
        db.close()
        _, when, who, text = dump(Path(d) / "p.db")["chat_messages"][0]
    assert len(text) <= sanitize.MAX_TEXT and "\x00" not in text and 0 <= when <= sanitize.INT64_MAX
    assert len(who) <= sanitize.MAX_NAME
    if isinstance(msg, str) and len(msg) <= sanitize.MAX_TEXT and "\x00" not in msg:
        try:
            msg.encode()
        except UnicodeEncodeError:
            assert len(text) == len(msg)  # lone surrogates replaced one for one
        else:
            assert text == msg
    if who:
        assert stats is not None and stats["message_count"] == 1

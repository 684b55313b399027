"""A real Database whose writes fail: locked by another connection, or a read-only file.

Recording never raises; the rows wait in memory (up to a bound, past it they are
counted as dropped); the next flush that can write writes them all; one log line
when writes start failing, one on overflow, one when they recover.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import sqlite3
import subprocess
import sys
from pathlib import Path

from rosey_bot.storage import Database


def chats(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT msg FROM chat_messages ORDER BY id")]
    finally:
        conn.close()


def storage_lines(caplog, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rosey_bot.storage" and word in r.getMessage()]


def test_a_locked_database_keeps_rows_in_memory_and_writes_them_once_released(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="rosey_bot.storage")
    path = tmp_path / "rosey.db"
    db = Database(path)
    db.record_chat("alice", "before", 1)
    db.flush()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    holder.execute("INSERT INTO user_counts (time_ms, count) VALUES (1, 1)")
    for i in range(20):
        db.record_chat("alice", f"while locked {i}", 10 + i)  # must not raise
    for _ in range(3):
        status = db.flush()
        assert not status.ok and status.buffered_rows == 20 and status.dropped_rows == 0
        assert "locked" in status.error
    assert db.user_stats("alice")["message_count"] == 1  # reads still work, on what is committed

    holder.execute("ROLLBACK")
    holder.close()
    status = db.flush()
    assert status.ok and status.buffered_rows == 0 and status.error == ""
    db.record_chat("alice", "after", 100)
    db.close()
    assert chats(path) == ["before", *(f"while locked {i}" for i in range(20)), "after"]
    assert len(storage_lines(caplog, "writes are failing")) == 1
    assert len(storage_lines(caplog, "recovered")) == 1


def test_past_the_bound_rows_are_dropped_counted_and_logged_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="rosey_bot.storage")
    path = tmp_path / "rosey.db"
    db = Database(path, buffer_rows=5)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    for i in range(12):
        db.record_chat("bob", f"line {i}", i)
    status = db.flush()
    assert (status.ok, status.buffered_rows, status.dropped_rows) == (False, 5, 7)
    assert len(storage_lines(caplog, "buffer full")) == 1
    holder.execute("COMMIT")
    holder.close()
    assert db.flush().ok
    assert db.write_status().dropped_rows == 7  # a total since start: it stays
    db.close()
    assert chats(path) == [f"line {i}" for i in range(5)]  # the oldest are kept, in order


# Runs as an unprivileged user: root writes any file, whatever its mode.
READ_ONLY_CHILD = """
import json, sys
from rosey_bot.storage import Database
db = Database(sys.argv[1])
for i in range(10):
    db.record_chat("carol", f"ro {i}", 100 + i)
    db.record_pm("carol", "rosey", f"pm {i}", 100 + i)
s = db.flush()
print(json.dumps([s.ok, s.buffered_rows, s.error]), flush=True)
sys.stdin.readline()  # the operator fixes the file
s = db.flush()
print(json.dumps([s.ok, s.buffered_rows, s.error]), flush=True)
db.close()
"""


def test_a_read_only_database_file_keeps_rows_until_it_is_writable_again(service_dir):
    nobody = pwd.getpwnam("nobody")
    path = service_dir / "rosey.db"
    Database(path).close()
    os.chown(path, 0, 0)  # e.g. a copy root put in place: the service user cannot write it
    os.chmod(path, 0o644)
    child = subprocess.Popen(
        [sys.executable, "-c", READ_ONLY_CHILD, str(path)],
        user=nobody.pw_uid,
        group=nobody.pw_gid,
        extra_groups=[],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(child.stdout.readline() or "null")
        assert first is not None, child.communicate(timeout=30)[1]
        ok, buffered, error = first
        assert not ok and buffered == 20 and "readonly" in error
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
        child.stdin.write("\n")
        child.stdin.flush()
        ok, buffered, error = json.loads(child.stdout.readline())
        assert ok and buffered == 0 and error == ""
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0, err
    assert chats(path) == [f"ro {i}" for i in range(10)]
    assert "Traceback" not in err and err.count("writes are failing") <= 1

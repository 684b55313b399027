"""The lock file beside the database: restore refuses while anyone has the database open, and a
bot starting during a restore waits for it instead of opening a half-replaced file."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from rosey_bot.storage import Database, StorageError, lock, restore


def chats(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT msg FROM chat_messages ORDER BY id")]
    finally:
        conn.close()


def test_restore_refuses_while_the_database_is_open_and_loses_nothing(tmp_path):
    path = tmp_path / "rosey.db"
    db = Database(path)
    db.record_chat("alice", "in the backup", 1)
    taken = db.backup()
    db.record_chat("alice", "after the backup", 2)
    db.flush()
    with pytest.raises(StorageError, match="in use .*Stop it first"):
        restore(taken, path)
    db.record_chat("alice", "after the refused restore", 3)
    db.close()
    assert chats(path) == ["in the backup", "after the backup", "after the refused restore"]
    restore(taken, path)  # closed: now it may
    assert chats(path) == ["in the backup"]


def test_opening_the_database_waits_for_a_restore_in_progress(tmp_path):
    path = tmp_path / "rosey.db"
    Database(path).close()
    opened: list[Database] = []
    with lock.exclusive(path):
        with pytest.raises(StorageError, match="a restore is replacing the database"):
            lock.hold_shared(path, wait=0)
        opener = threading.Thread(target=lambda: opened.append(Database(path)))
        opener.start()
        opener.join(timeout=0.5)
        assert opener.is_alive() and not opened, "the database opened while a restore held it"
    opener.join(timeout=30)
    assert len(opened) == 1
    opened[0].close()

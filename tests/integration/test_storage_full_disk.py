"""A real bot whose database is on a small tmpfs that fills up.

While the disk is full: `!ping` and PM commands are answered, /api/health says
`degraded`, the rows wait in memory. Once there is room again they are written and
health is back to `healthy`. Past the buffer's bound rows are dropped, counted in
`bot_storage_dropped_rows_total`, and logged once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from rosey_bot.storage import database
from tests.support.chatbot import stored_chat
from tests.support.waiting import wait_until

BUFFER = 40  # a small bound, so the test can overflow it


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs: it needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
        if os.path.ismount(mnt):
            subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(disk: Path) -> Path:
    """Write a filler file until the file system refuses: the disk is full."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    with pytest.raises(OSError) as exc:
        (disk / "probe").write_bytes(b"\0" * 4096)
    assert exc.value.errno == errno.ENOSPC
    return filler


def truncate_wal(db: Path) -> None:
    # SQLite reuses the WAL file's space after a checkpoint; an empty WAL needs new blocks for the next commit.
    conn = sqlite3.connect(db, timeout=10)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        conn.close()
    assert db.with_name(db.name + "-wal").stat().st_size == 0


def metric(bot, name: str) -> float:
    for line in bot.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /api/metrics")


def storage_lines(caplog, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rosey_bot.storage" and word in r.getMessage()]


def test_full_disk_commands_answered_health_degraded_rows_written_when_space_returns(
    small_disk, make_fake, make_bot, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(database, "BUFFER_ROWS", BUFFER, raising=False)
    db = small_disk / "rosey.db"
    fake = make_fake()
    fake.add_user("alice", 0)
    fake.add_user("mod", 2)
    bot = make_bot(fake, **{"database.path": str(db)})
    bot.wait_connected()
    fake.user_says("alice", "before the disk filled")
    wait_until(lambda: stored_chat(db) == ["before the disk filled"], what="the first row written")

    # The disk fills up.
    truncate_wal(db)
    filler = fill(small_disk)
    fake.user_says("alice", "!ping")
    fake.user_pm("mod", "rosey", "status")
    fake.user_pm("mod", "rosey", "stats alice")
    wait_until(lambda: ("rosey", "pong") in fake.chats, what="!ping answered on a full disk")
    wait_until(lambda: len([p for p in fake.pms if p[1] == "mod"]) == 2, what="two PM commands answered")
    replies = [msg for _, to, msg in fake.pms if to == "mod"]
    assert replies[0].startswith("in test, ") and replies[1].startswith("alice: ")  # read while writes fail
    during = [f"while full {i}" for i in range(10)]
    for line in during:
        fake.user_says("alice", line)
    wait_until(lambda: bot.health()[1]["status"] == "degraded", what="health degraded")
    body = wait_until(lambda: (b := bot.health()[1])["storage"]["buffered_rows"] >= 11 and b, what="rows buffered")
    assert body["storage"]["writable"] is False and "full" in body["storage"]["error"]
    assert metric(bot, "bot_storage_writable") == 0
    assert stored_chat(db) == ["before the disk filled"]

    # Room again: everything kept is written, health is back.
    filler.unlink()
    wait_until(lambda: bot.health()[1]["status"] == "healthy", what="health healthy again")
    assert stored_chat(db) == ["before the disk filled", "!ping", *during]
    assert bot.health()[1]["storage"] == {"writable": True, "buffered_rows": 0, "dropped_rows": 0, "error": ""}

    # Full again, for longer than the buffer holds: the rest is dropped, counted, logged once.
    truncate_wal(db)
    filler = fill(small_disk)
    flood = [f"flood {i}" for i in range(BUFFER + 25)]
    for line in flood:
        fake.user_says("alice", line)
    wait_until(lambda: metric(bot, "bot_storage_dropped_rows_total") >= 25, what="dropped rows counted")
    assert bot.health()[1]["status"] == "degraded"
    filler.unlink()
    wait_until(lambda: bot.health()[1]["status"] == "healthy", what="healthy after the second outage")
    assert stored_chat(db)[len(during) + 2 :] == flood[:BUFFER]  # the oldest kept, in order
    assert metric(bot, "bot_storage_dropped_rows_total") == len(flood) - BUFFER
    assert len(storage_lines(caplog, "buffer full")) == 1
    assert len(storage_lines(caplog, "writes are failing")) == 2  # one per outage, not per event
    assert len(storage_lines(caplog, "recovered")) == 2
    assert not [r for r in caplog.records if r.exc_info], "no tracebacks"

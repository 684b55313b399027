"""`rosey-bot restore` while a real `rosey-bot run` process has the database open: refused, no row lost.

The restore would replace the file under the running bot, and every row the bot
wrote afterwards would be gone. Once the bot is stopped the same restore works.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.chatbot import stored_chat
from tests.support.net import free_port
from tests.support.waiting import wait_until

CLI = Path(sys.executable).parent / "rosey-bot"


def say_lines(fake, db: Path, first: int, last: int) -> list[str]:
    lines = [f"line {i}" for i in range(first, last)]
    for line in lines:
        fake.user_says("alice", line)
    wait_until(lambda: set(lines) <= set(stored_chat(db)), timeout=20, what=f"{lines[-1]} stored")
    return lines


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "-c", str(config), *args], capture_output=True, text=True, timeout=60)


def test_restore_is_refused_while_the_bot_runs_and_no_row_is_lost(make_fake, tmp_path):
    fake = make_fake()
    fake.add_user("alice", 1)
    port = free_port()
    db = tmp_path / "state" / "rosey.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nurl = "{fake.url}"\nchannel = "test"\n[account]\nname = "rosey"\n'
        f'[health]\nport = {port}\n[database]\npath = "{db}"\n'
    )
    bot = subprocess.Popen([str(CLI), "-c", str(config), "run"], stderr=subprocess.PIPE, text=True)
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=30, what="the bot in its channel")
        written = say_lines(fake, db, 0, 10)
        taken = cli(config, "backup")
        assert taken.returncode == 0, taken.stderr
        backup = taken.stdout.strip().split(": ", 1)[1]
        written += say_lines(fake, db, 10, 20)

        refused = cli(config, "restore", backup)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "in use" in refused.stderr and f"process {bot.pid}" in refused.stderr, refused.stderr
        assert "systemctl stop rosey-bot" in refused.stderr

        written += say_lines(fake, db, 20, 30)  # the bot still writes to the file it has open
        fake.user_says("alice", "!ping")
        wait_until(lambda: ("rosey", "pong") in fake.chats, what="the bot still answering")
        written.append("!ping")
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = bot.communicate(timeout=20)
    assert bot.returncode == 0, err
    assert stored_chat(db) == written, "rows were lost"

    # Stopped: the same restore goes through and brings back the backup's rows.
    restored = cli(config, "restore", backup)
    assert restored.returncode == 0 and "restored from" in restored.stdout, restored.stderr
    assert stored_chat(db) == written[:10]

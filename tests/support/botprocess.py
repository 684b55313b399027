"""The real `rosey-bot run` process of this venv, on a minimal config, stopped with SIGTERM as systemd does."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROSEY_BOT = Path(sys.executable).parent / "rosey-bot"


@dataclass
class BotProcess:
    proc: subprocess.Popen
    config: Path
    err: str = ""  # all it wrote to stderr (its log), once stopped


@contextlib.contextmanager
def bot_process(workdir: Path, server_url: str, health_port: int, stop_timeout: float = 20) -> Iterator[BotProcess]:
    """`rosey-bot run` as account "rosey" in channel "test" of ``server_url``, its database in ``workdir``."""
    config = workdir / "config.toml"
    config.write_text(
        f'[server]\nurl = "{server_url}"\nchannel = "test"\n[account]\nname = "rosey"\n'
        f'[health]\nport = {health_port}\n[database]\npath = "{workdir / "rosey.db"}"\n'
    )
    bot = BotProcess(
        subprocess.Popen([str(ROSEY_BOT), "-c", str(config), "run"], stderr=subprocess.PIPE, text=True), config
    )
    try:
        yield bot
    finally:
        bot.proc.send_signal(signal.SIGTERM)
        _, bot.err = bot.proc.communicate(timeout=stop_timeout)

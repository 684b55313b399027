"""Run the real bot (real Database, real HealthServer on port 0) against the fake CyTube server."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fake_cytube import Behaviour, FakeCyTube

from rosey_bot import config as config_mod
from rosey_bot.bot.runner import Bot
from rosey_bot.http.health import HealthServer, create_app
from rosey_bot.state import BotState
from rosey_bot.storage import Database
from tests.support.waiting import wait_until

PASSWORD = "s3cret-Pa55word-xyzzy"


class RunningBot:
    """The bot on its own event loop thread, as in production, plus its health server."""

    def __init__(self, cfg: config_mod.Config):
        self.config = cfg
        self.state = BotState("9.9.9-test", cfg.server.channel, cfg.bot.error_window_seconds)
        self.db = Database(cfg.database.path)
        self.bot = Bot(cfg, self.state, self.db)
        self.health_server = HealthServer(create_app(self.state, cfg.bot.degraded_error_rate), "127.0.0.1", 0)
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.crashed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bot", daemon=True)
        self.http = requests.Session()

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.bot.run(self.stop_event))
        except BaseException as exc:  # recorded: the test fails on it
            self.crashed = exc

    def start(self) -> RunningBot:
        self.health_server.start()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the bot did not stop"
        self.loop.close()
        self.http.close()  # first: an open keep-alive connection keeps waitress's loop busy
        self.health_server.stop()
        self.db.close()

    def call(self, fn: Callable[[], object]) -> None:
        """Run fn on the bot's loop (the client is not thread-safe)."""
        self.loop.call_soon_threadsafe(fn)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.health_server.port}"

    def health(self) -> tuple[int, dict]:
        r = self.http.get(self.base + "/api/health", timeout=5)
        return r.status_code, r.json()

    def metrics(self) -> str:
        return self.http.get(self.base + "/api/metrics", timeout=5).text

    def wait_health(self, code: int, timeout: float = 10.0) -> dict:
        body: dict = {}

        def ok() -> bool:
            nonlocal body
            status, body = self.health()
            return status == code

        wait_until(ok, timeout, f"/api/health {code}")
        return body

    def wait_connected(self, timeout: float = 10.0) -> None:
        self.wait_health(200, timeout)


def bot_config(fake: FakeCyTube, tmp_path: Path, **overrides) -> config_mod.Config:
    """Short timeouts so the suite stays fast; overrides are "section.key": value."""
    data: dict = {
        "server": {"url": fake.url, "channel": fake.behaviour.channel},
        "account": {"name": "rosey"},
        "bot": {
            "response_timeout": 0.5,
            "reconnect_min_delay": 0.05,
            "reconnect_max_delay": 0.5,
            "connect_interval": 0.2,
        },
        "database": {"path": str(tmp_path / "rosey.db")},
    }
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        data.setdefault(section, {})[key] = value
    return config_mod.parse(data, tmp_path / "config.toml")


@pytest.fixture
def make_fake():
    fakes: list[FakeCyTube] = []

    def make(**behaviour) -> FakeCyTube:
        fake = FakeCyTube(Behaviour(**behaviour)).start()
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        fake.stop()


@pytest.fixture
def make_bot(tmp_path):
    bots: list[RunningBot] = []

    def make(fake: FakeCyTube, **overrides) -> RunningBot:
        bot = RunningBot(bot_config(fake, tmp_path / f"bot{len(bots)}", **overrides)).start()
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()
        assert bot.crashed is None, f"the bot crashed: {bot.crashed!r}"


@pytest.fixture
def password_file(tmp_path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return path


def stored_chat(db: Path, username: str = "alice") -> list[str]:
    """The chat lines of ``username`` in the database, oldest first (read-only, beside a running bot)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT msg FROM chat_messages WHERE username = ? ORDER BY id", (username,))]
    finally:
        conn.close()

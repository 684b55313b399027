"""Run the real bot (real Database, real HealthServer on port 0) against the fake CyTube server.

The bot runs in this process (the venv, websockets >= 13), or, for tests marked ``both_runtimes``,
also as bot_process.py under Debian bookworm's python3 and python3-websockets 10.4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot_process import BotUnderTest
from fake_cytube import Behaviour, FakeCyTube

from rosey_bot import config as config_mod
from rosey_bot.bot import transport
from tests.support.chatbot import PASSWORD
from tests.support.waiting import wait_until


class BotHandle:
    """A test's view of a running bot: its health server over HTTP, and what bot_process offers."""

    runtime: str
    websockets_version: str
    websockets_api: str

    def __init__(self, cfg: config_mod.Config):
        self.config = cfg
        self.http = requests.Session()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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


class LocalBot(BotHandle):
    """The venv runtime: the bot in this process, its objects at hand (``.bot``, ``.db``, ``.call``)."""

    runtime = "venv"
    websockets_version, websockets_api = transport.VERSION, transport.API

    def __init__(self, cfg: config_mod.Config):
        super().__init__(cfg)
        self.under_test = BotUnderTest(cfg)
        self.bot, self.db, self.state, self.thread = (
            self.under_test.bot,
            self.under_test.db,
            self.under_test.state,
            self.under_test.thread,
        )
        self.call, self.say, self.rank = self.under_test.call, self.under_test.say, self.under_test.rank
        self.send_limit, self.session_repr = self.under_test.send_limit, self.under_test.session_repr

    @property
    def port(self) -> int:
        return self.under_test.port

    def start(self) -> LocalBot:
        self.under_test.start()
        return self

    def stop(self) -> None:
        self.under_test.stop()
        self.http.close()  # first: an open keep-alive connection keeps waitress's loop busy
        self.under_test.close()

    @property
    def crashed(self) -> str | None:
        return repr(self.under_test.crashed) if self.under_test.crashed else None


class ProcessBot(BotHandle):
    """The Debian-native runtime: bot_process.py under bookworm's python3 and its python3-* packages."""

    runtime = "debian"

    def __init__(self, cfg: config_mod.Config, data: dict, log: Path):
        super().__init__(cfg)
        self.log = log
        self.crashed: str | None = None  # as bot_process reports it when stopped
        self._stderr = log.open("w")
        self.proc = subprocess.Popen(
            [DEBIAN_PYTHON, str(Path(__file__).with_name("bot_process.py")), json.dumps(data), str(cfg.path)],
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"bot_process ended (status {self.proc.wait()}): {self.log_text()[-2000:]}")
        return json.loads(line)

    def _ask(self, op: str, *args: object) -> object:
        self.proc.stdin.write(json.dumps({"op": op, "args": list(args)}) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        assert "error" not in answer, f"bot_process {op}: {answer['error']}"
        return answer["result"]

    def start(self) -> ProcessBot:
        hello = self._read()
        self.port, self.websockets_version, self.websockets_api = hello["port"], hello["websockets"], hello["api"]
        return self

    def say(self, *texts: str) -> None:
        self._ask("say", *texts)

    def rank(self) -> int | None:
        return self._ask("rank")

    def send_limit(self) -> tuple[float, float]:
        return tuple(self._ask("send_limit"))

    def session_repr(self) -> str:
        return self._ask("session_repr")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.http.close()
        try:
            if self.proc.poll() is not None:
                self.crashed = f"bot_process exited with status {self.proc.returncode}: {self.log_text()[-2000:]}"
                return
            self.proc.stdin.write(json.dumps({"op": "stop"}) + "\n")
            self.proc.stdin.flush()
            self.crashed = self._read()["crashed"]
            assert self.proc.wait(timeout=20) == 0, self.log_text()[-2000:]
        finally:
            self.proc.stdin.close()
            self.proc.stdout.close()
            self._stderr.close()


DEBIAN_PYTHON = "/usr/bin/python3"
SRC = Path(__file__).resolve().parents[2] / "src"


def bot_config_data(fake: FakeCyTube, tmp_path: Path, **overrides) -> dict:
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
    return data


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
def runtime() -> str:
    """Where the bot runs: the venv, in this process; tests marked ``both_runtimes`` also run on "debian"."""
    return "venv"


@pytest.fixture
def make_bot(tmp_path, runtime):
    bots: list[BotHandle] = []

    def make(fake: FakeCyTube, **overrides) -> BotHandle:
        home = tmp_path / f"bot{len(bots)}"
        home.mkdir()
        data = bot_config_data(fake, home, **overrides)
        cfg = config_mod.parse(data, home / "config.toml")
        bot = LocalBot(cfg) if runtime == "venv" else ProcessBot(cfg, data, home / "bot.log")
        bots.append(bot)
        bot.start()
        major = int(bot.websockets_version.split(".")[0])
        if runtime == "venv":
            assert major >= 13 and bot.websockets_api == "asyncio", bot.websockets_version
        else:
            assert major == 10 and bot.websockets_api == "legacy", bot.websockets_version
        return bot

    yield make
    for bot in bots:
        bot.stop()
        assert bot.crashed is None, f"the bot crashed: {bot.crashed}"


@pytest.fixture
def password_file(tmp_path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return path

"""The bot under test: real Database, real HealthServer on port 0, the bot on its own loop thread.

conftest.py runs it in the test process (the venv runtime, websockets >= 13).
For the Debian-native runtime (bookworm's /usr/bin/python3 with its
python3-* packages: websockets 10.4 and its legacy API) it runs as this
script, which needs nothing but the product and the standard library:

    PYTHONPATH=src /usr/bin/python3 tests/integration/bot_process.py CONFIG_JSON CONFIG_PATH

It prints one JSON line ``{"port", "websockets", "api"}``, then answers each
JSON request line on stdin (``{"op": "say", "args": [...]}``) with one JSON
line, until ``{"op": "stop"}`` or end of input. Logs go to stderr at DEBUG.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from rosey_bot import config as config_mod
from rosey_bot.bot import transport
from rosey_bot.bot.runner import Bot
from rosey_bot.http.health import HealthServer, create_app
from rosey_bot.state import BotState
from rosey_bot.storage import Database

VERSION = "9.9.9-test"


class BotUnderTest:
    """The bot on its own event loop thread, as in production, plus its health server."""

    def __init__(self, cfg: config_mod.Config):
        self.config = cfg
        self.state = BotState(VERSION, cfg.server.channel, cfg.bot.error_window_seconds)
        self.db = Database(cfg.database.path)
        self.bot = Bot(cfg, self.state, self.db)
        self.health_server = HealthServer(create_app(self.state, cfg.bot.degraded_error_rate), "127.0.0.1", 0)
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.crashed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bot", daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.bot.run(self.stop_event))
        except BaseException as exc:
            self.crashed = exc

    def start(self) -> BotUnderTest:
        self.health_server.start()
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop the bot; the caller closes its own HTTP connections first, then ``close()``."""
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the bot did not stop"
        self.loop.close()

    def close(self) -> None:
        self.health_server.stop()
        self.db.close()

    def call(self, fn: Callable[[], object]) -> None:
        """Run fn on the bot's loop (the client is not thread-safe)."""
        self.loop.call_soon_threadsafe(fn)

    def ask(self, fn: Callable[[], object], timeout: float = 10.0) -> object:
        """Run fn on the bot's loop and return its result."""
        answer: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                answer.set_result(fn())
            except Exception as exc:
                answer.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return answer.result(timeout)

    @property
    def port(self) -> int:
        return self.health_server.port

    # What a test may ask of the bot, whichever runtime it is in.
    def say(self, *texts: str) -> None:
        self.ask(lambda: [self.bot.outbox.say(text) for text in texts])

    def rank(self) -> int | None:
        return self.ask(lambda: self.bot.client.limiter.rank)

    def send_limit(self) -> tuple[float, float]:
        return tuple(self.ask(lambda: self.bot.client.limiter.limit))

    def session_repr(self) -> str:
        return self.ask(lambda: repr(self.bot.client.session))


OPS = ("say", "rank", "send_limit", "session_repr")


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    cfg = config_mod.parse(json.loads(argv[1]), Path(argv[2]))
    bot = BotUnderTest(cfg).start()
    _reply({"port": bot.port, "websockets": transport.VERSION, "api": transport.API})
    for line in sys.stdin:  # end of input (the test process died) stops the bot too
        request = json.loads(line)
        if request["op"] == "stop":
            break
        try:
            if request["op"] not in OPS:
                raise ValueError(f"unknown op {request['op']!r}")
            _reply({"result": getattr(bot, request["op"])(*request.get("args", []))})
        except Exception as exc:
            _reply({"error": f"{type(exc).__name__}: {exc}"})
    bot.stop()
    bot.close()
    _reply({"stopped": True, "crashed": repr(bot.crashed) if bot.crashed else None})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

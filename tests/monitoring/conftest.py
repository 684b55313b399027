"""Fixtures starting real Prometheus, Alertmanager, an SMTP listener and a bot metrics endpoint.

Every process binds 127.0.0.1 on a free port, keeps its data in tmp_path and
is stopped in the fixture's teardown, whatever the test did.
"""

from __future__ import annotations

import contextlib
import email
import itertools
import threading
from email import policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from rosey_bot.http.health import HealthServer, create_app
from rosey_bot.state import BotState
from tests.support import monitoring
from tests.support.monitoring import dump_yaml, load_yaml, render_alertmanager
from tests.support.net import free_port
from tests.support.waiting import wait_until


class Inbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self):
        self._lock = threading.Lock()
        self._mails: list[SimpleNamespace] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        mail = SimpleNamespace(
            to=list(envelope.rcpt_tos), subject=str(msg["Subject"]), body=body.get_content() if body else ""
        )
        with self._lock:
            self._mails.append(mail)
        return "250 OK"

    @property
    def mails(self) -> list[SimpleNamespace]:
        with self._lock:
            return list(self._mails)

    def wait_for(self, predicate, timeout: float, what: str) -> list[SimpleNamespace]:
        return wait_until(lambda: [m for m in self.mails if predicate(m)], timeout, f"mail: {what}")


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SimpleNamespace(inbox=inbox, host=controller.hostname, port=controller.port)
    finally:
        controller.stop()


@pytest.fixture
def alertmanager(tmp_path, smtp):
    """A real Alertmanager mailing the smtp fixture.

    The rendered config is used as shipped except for its timers: group_wait
    30s -> 1s and group_interval 5m -> 2s, so a test sees mail in seconds.
    """
    rendered = render_alertmanager(tmp_path, smtp.port)
    cfg = load_yaml(rendered)
    cfg["route"]["group_wait"] = "1s"
    cfg["route"]["group_interval"] = "2s"
    config = dump_yaml(cfg, tmp_path / "am" / "alertmanager-test.yml")
    with monitoring.alertmanager(config, tmp_path / "am" / "data", tmp_path / "alertmanager.log") as am:
        am.config = config
        yield am


@pytest.fixture
def start_prometheus(tmp_path):
    """Factory: start a real Prometheus on a config file (and optional existing data dir)."""
    numbers = itertools.count()
    with contextlib.ExitStack() as running:

        def start(config, data_dir=None) -> SimpleNamespace:
            n = next(numbers)
            data = data_dir or tmp_path / f"prometheus-data-{n}"
            return running.enter_context(monitoring.prometheus(config, data, tmp_path / f"prometheus-{n}.log"))

        yield start


@pytest.fixture
def bot_endpoint():
    """The bot's real metrics code path: BotState behind HealthServer, in this process."""
    state = BotState("1.2.3~test", "testchan")
    state.set_connected(True)
    state.set_user_count(3)
    server = HealthServer(create_app(state), "127.0.0.1", 0).start()
    try:
        yield SimpleNamespace(state=state, port=server.port, url=f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()

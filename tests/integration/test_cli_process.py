"""The real `rosey-bot run` process against the fake server: connects, reports healthy, stops on SIGTERM."""

import requests

from tests.support.botprocess import bot_process
from tests.support.net import free_port
from tests.support.waiting import wait_until


def test_rosey_bot_run_process(make_fake, tmp_path):
    fake = make_fake()
    port = free_port()
    with bot_process(tmp_path, fake.url, port) as bot:

        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=20, what="the process to be in the channel")
        assert fake.logins == [("rosey", True)]
    assert bot.proc.returncode == 0, bot.err
    assert "in channel test as rosey" in bot.err

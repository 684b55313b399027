"""The real `rosey-bot run` process against the fake server: connects, reports healthy, stops on SIGTERM."""

import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.net import free_port
from tests.support.waiting import wait_until


def test_rosey_bot_run_process(make_fake, tmp_path):
    fake = make_fake()
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nurl = "{fake.url}"\nchannel = "test"\n[account]\nname = "rosey"\n'
        f'[health]\nport = {port}\n[database]\npath = "{tmp_path / "rosey.db"}"\n'
    )
    cli = Path(sys.executable).parent / "rosey-bot"
    proc = subprocess.Popen([str(cli), "-c", str(config), "run"], stderr=subprocess.PIPE, text=True)
    try:

        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=20, what="the process to be in the channel")
        assert fake.logins == [("rosey", True)]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "in channel test as rosey" in err

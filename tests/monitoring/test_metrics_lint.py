"""`promtool check metrics` is clean on what a live bot serves at /api/metrics (docs/DESIGN.md#metrics)."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from tests.support.monitoring import Process, tool
from tests.support.net import free_port


def promtool_check(text: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )


def scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/api/metrics", timeout=5) as resp:
        assert resp.status == 200
        return resp.read().decode()


@pytest.fixture
def bot_process(tmp_path):
    """The real `rosey-bot run` process, pointed at a CyTube server that is not there."""
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[server]
url = "http://127.0.0.1:{free_port()}"
channel = "lintchan"

[health]
host = "127.0.0.1"
port = {port}

[database]
path = "{tmp_path / "rosey.db"}"
"""
    )
    proc = Process([sys.executable, "-m", "rosey_bot.cli", "-c", str(config), "run"], tmp_path / "bot.log", "rosey-bot")
    try:
        url = f"http://127.0.0.1:{port}"
        proc.wait_ready(f"{url}/api/metrics", timeout=30)
        yield url
    finally:
        proc.stop()


def test_promtool_check_metrics_on_a_running_bot(bot_process):
    text = scrape(bot_process)
    for family in ("bot_connected", "bot_uptime_seconds", "bot_users", "bot_requests_total", "bot_errors_total"):
        assert f"\n{family} " in text, family
    assert "bot_build_info{" in text and "process_start_time_seconds" in text
    assert 'bot_dependency_info{name="werkzeug",version="' in text, "the bot's dependencies, one info series each"
    res = promtool_check(text)
    assert res.returncode == 0 and res.stdout + res.stderr == "", res.stdout + res.stderr


def test_promtool_check_metrics_after_activity(bot_endpoint):
    state = bot_endpoint.state
    for _ in range(3):
        state.request_handled()
        state.error()
    text = scrape(bot_endpoint.url)
    assert "bot_requests_total 3.0" in text and "bot_errors_total 3.0" in text
    res = promtool_check(text)
    assert res.returncode == 0 and res.stdout + res.stderr == "", res.stdout + res.stderr


def test_promtool_check_metrics_can_fail():
    # The check above means something only if promtool flags a bad exposition.
    res = promtool_check("# TYPE bot_things counter\nbot_things 1\n")
    assert res.returncode != 0 and "bot_things" in res.stdout + res.stderr

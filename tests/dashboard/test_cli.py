"""The `rosey-dashboard` console script as a real process: config file, loopback bind, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.dashboard import dash_helpers as h
from tests.support.monitoring import Process
from tests.support.net import free_port, get_json

SCRIPT = Path(sys.executable).parent / "rosey-dashboard"


def write_config(tmp_path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def test_serves_on_loopback_from_config(tmp_path, bot, dpkg_log):
    assert SCRIPT.exists(), f"{SCRIPT} missing: run `make venv` (pip install -e .)"
    port = free_port()
    config = write_config(
        tmp_path,
        f"""
[health]
port = {bot.port}
[dashboard]
port = {port}
dpkg_log = "{dpkg_log}"
prometheus_url = "{h.closed_url()}"
alertmanager_url = "{h.closed_url()}"
""",
    )
    proc = Process([str(SCRIPT), "--config", str(config)], tmp_path / "dashboard.log", "rosey-dashboard")
    try:
        url = f"http://127.0.0.1:{port}"
        proc.wait_ready(f"{url}/api/config", timeout=30)
        # bot_health_url derived from [health]: the bot's live health comes through.
        status = get_json(f"{url}/api/status")
        assert status["ok"] and status["data"]["channel"] == "testchan" and status["source"] == bot.url
        assert get_json(f"{url}/api/deployments")["data"]["installed_version"] == "1.2.1"
        assert get_json(f"{url}/api/charts")["error"].startswith("Prometheus unreachable")
        # Bound to loopback only, as the kernel sees it.
        assert h.listening(Path("/proc/net/tcp").read_text() + Path("/proc/net/tcp6").read_text(), port) == {
            "127.0.0.1"
        }
    finally:
        proc.stop()
    assert proc.proc.returncode in (0, -15), proc.log_tail()


def test_bad_config_exits_78(tmp_path):
    config = write_config(tmp_path, "[dashboard]\nport = 0\n")
    res = subprocess.run([str(SCRIPT), "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert res.returncode == 78
    assert res.stderr.strip() == f"rosey-dashboard: {config}: dashboard.port: must be between 1 and 65535"


def test_missing_config_exits_78(tmp_path):
    res = subprocess.run(
        [str(SCRIPT), "--config", str(tmp_path / "none.toml")], capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 78 and "cannot read" in res.stderr

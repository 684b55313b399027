"""Real upstreams for the dashboard tests and benchmark: a bot health server, Prometheus, Alertmanager.

Each is a context manager that stops what it started. Process handling comes
from tests/support/monitoring.py.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

from waitress import wasyncore
from waitress.server import create_server

from rosey_bot.config import parse
from rosey_bot.http.health import HealthServer
from rosey_bot.http.health import create_app as create_health_app
from rosey_bot.state import BotState
from tests.support import monitoring
from tests.support.monitoring import dump_yaml
from tests.support.net import free_port, get_json, post_json
from tests.support.waiting import NOT_READY, wait_until

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = "/usr/bin/chromium"
# Chromium on a closed network: no sandbox (root), no GPU, nothing phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCRAPE_INTERVAL = "1s"  # production scrapes every 15 s; tests want points within seconds


@contextlib.contextmanager
def bot_server(version: str = "1.2.1", channel: str = "testchan", users: int = 7):
    """The bot's real health/metrics code: BotState behind HealthServer on a free port."""
    state = BotState(version, channel)
    state.set_connected(True)
    state.set_user_count(users)
    for _ in range(5):
        state.request_handled()
    state.error()
    server = HealthServer(create_health_app(state), "127.0.0.1", 0).start()
    try:
        yield SimpleNamespace(state=state, url=f"http://127.0.0.1:{server.port}", port=server.port)
    finally:
        server.stop()


@contextlib.contextmanager
def prometheus(workdir: Path, bot_port: int):
    """A real Prometheus scraping the bot's /api/metrics every second."""
    cfg = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": "rosey-bot",
                "metrics_path": "/api/metrics",
                "static_configs": [{"targets": [f"127.0.0.1:{bot_port}"], "labels": {"env": "test"}}],
            }
        ],
    }
    config = dump_yaml(cfg, workdir / "prometheus.yml")
    with monitoring.prometheus(config, workdir / "prometheus-data", workdir / "prometheus.log") as p:
        yield p


@contextlib.contextmanager
def alertmanager(workdir: Path):
    """A real Alertmanager with a receiver that delivers nowhere: the tests read its API only."""
    config = dump_yaml({"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}, workdir / "alertmanager.yml")
    with monitoring.alertmanager(config, workdir / "alertmanager-data", workdir / "alertmanager.log") as am:
        yield am


def dpkg_log(workdir: Path) -> Path:
    """The fixture log and its rotation, copied where the dashboard is told to read them."""
    logdir = workdir / "log"
    logdir.mkdir(exist_ok=True)
    for name in ("dpkg.log", "dpkg.log.1"):
        shutil.copy(FIXTURES / name, logdir / name)
    return logdir / "dpkg.log"


def dashboard_config(bot_url: str, prometheus_url: str, alertmanager_url: str, dpkg: Path, refresh: int = 2):
    return parse(
        {
            "server": {
                "url": "https://cytube.example.test",
                "channel": "testchan",
                "channel_password": "chanpw-S3CRET",
            },
            "dashboard": {
                "bot_health_url": bot_url,
                "prometheus_url": prometheus_url,
                "alertmanager_url": alertmanager_url,
                "dpkg_log": str(dpkg),
                "refresh_seconds": refresh,
            },
        }
    )


def re_uptime():
    """What the uptime card shows for a live bot: "5s", "3m 2s", "1h 4m", "2d 1h 0m"."""
    import re

    return re.compile(r"^\d+(d \d+h \d+m|h \d+m|m \d+s|s)$")


def listening(proc_net_tcp: str, port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port``, from /proc/net/tcp{,6} text."""
    import ipaddress

    found = set()
    for line in proc_net_tcp.splitlines():
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1] or fields[3] != "0A":  # 0A: LISTEN (skips headers)
            continue
        addr, hexport = fields[1].split(":")
        if int(hexport, 16) == port:
            raw = bytes.fromhex(addr)
            # The kernel prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(words)))
    return found


def closed_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"


@contextlib.contextmanager
def serve(app):
    """The dashboard app under waitress, as rosey-dashboard serves it, on a free loopback port."""
    server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="rosey-dashboard")
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Worker threads first: a request finishing after close() would write to a closed trigger.
        server.task_dispatcher.shutdown()
        channels = dict(server._map)
        # Then end the loop from inside its own thread (an empty map ends it): sockets closed under its
        # select() from this thread made it fail with EBADF. Only then close them all.
        server.trigger.pull_trigger(server._map.clear)
        thread.join(timeout=5)
        assert not thread.is_alive(), "the dashboard's waitress loop did not stop"
        wasyncore.close_all(channels)


def wait_for_series(prometheus_url: str, timeout: float = 60) -> None:
    """Until Prometheus can answer every chart query with at least one point."""
    from rosey_bot.dashboard import upstream

    def ready():
        series = upstream.charts(prometheus_url)["series"]
        return all(series.values())

    wait_until(ready, timeout, "Prometheus to hold points for every chart query", errors=NOT_READY)


def post_alert(alertmanager_url: str, name: str = "BotDown", severity: str = "critical") -> dict:
    alert = {
        "labels": {"alertname": name, "severity": severity, "instance": "bot1:8000", "env": "test"},
        "annotations": {"summary": f"{name}: rosey-bot on bot1:8000 is not answering"},
    }
    assert post_json(f"{alertmanager_url}/api/v2/alerts", [alert]) == 200
    wait_until(
        lambda: any(a["labels"]["alertname"] == name for a in get_json(f"{alertmanager_url}/api/v2/alerts")),
        30,
        f"Alertmanager to list {name}",
        errors=NOT_READY,
    )
    return alert

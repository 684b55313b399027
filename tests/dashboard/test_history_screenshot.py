"""docs/dashboard.png: the page in real headless Chromium over an hour of realistic history.

A live Prometheus a few seconds old holds one point per chart; an operator's holds
hours. So the history is written as OpenMetrics (an hour of the bot's metrics every
15 s, the shipped scrape interval: users drifting up through the evening, commands
with bursts, an error spike in the last minutes), turned into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics`, and served by a real Prometheus.
The status cards come from the bot's real health server, the alert from a real
Alertmanager. `make dashboard-png` runs this and copies the screenshot to docs/.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import yaml
from playwright.sync_api import expect

from rosey_bot.dashboard.app import create_app
from rosey_bot.http.health import HealthServer
from rosey_bot.http.health import create_app as create_health_app
from rosey_bot.state import BotState
from tests.dashboard import dash_helpers as h
from tests.support.monitoring import backfill, dump_yaml
from tests.support.monitoring import prometheus as prometheus_server
from tests.support.net import get_json, post_json
from tests.support.paths import ROOT
from tests.support.waiting import wait_until

SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "dashboard-history.png"
STEP, STEPS = 15, 240  # an hour at the shipped scrape interval
SPIKE = range(STEPS - 40, STEPS - 4)  # the last ten minutes: CyTube answering errors
INSTANCE, ENV = "bot1:8000", "production"
LABELS = f'job="rosey-bot",instance="{INSTANCE}",env="{ENV}"'
UPTIME = 3 * 86400 + 4 * 3600 + 12 * 60  # a bot that has run for days since its last restart
ALERT = "HighErrorRate"  # what the spike fires, with the shipped rule's own labels and summary
CHARTS = ("users", "requests_per_minute", "errors_per_minute")


def history(end: int, seed: int = 15) -> tuple[str, int]:
    """OpenMetrics for the hour ending at ``end``, and the user count at its end."""
    rnd = random.Random(seed)  # the same picture on every run
    users, requests, errors = 6, 4210, 37
    lines = {"bot_users": [], "bot_requests": [], "bot_errors": []}
    for i in range(STEPS):
        t = end - (STEPS - 1 - i) * STEP
        target = 6 + 9 * i / STEPS  # the evening fills the channel
        if rnd.random() < 0.2:
            users = max(2, users + (1 if rnd.random() < 0.5 + (target - users) / 10 else -1))
        burst = 4 if (i // 16) % 5 == 2 else 1  # someone playing with commands for a few minutes
        requests += _poisson(rnd, users * 0.04 * burst)
        errors += _poisson(rnd, 2.5 if i in SPIKE else 0.03)
        lines["bot_users"].append(f"bot_users{{{LABELS}}} {users} {t}")
        lines["bot_requests"].append(f"bot_requests_total{{{LABELS}}} {requests} {t}")
        lines["bot_errors"].append(f"bot_errors_total{{{LABELS}}} {errors} {t}")
    out = ["# TYPE bot_users gauge", *lines["bot_users"]]
    out += ["# TYPE bot_requests counter", *lines["bot_requests"]]
    out += ["# TYPE bot_errors counter", *lines["bot_errors"]]
    return "\n".join(out) + "\n# EOF\n", users


def _poisson(rnd: random.Random, mean: float) -> int:
    # Knuth's method: small means only, which is all a 15 s step sees.
    limit, k, p = math.exp(-mean), 0, rnd.random()
    while p > limit:
        k, p = k + 1, p * rnd.random()
    return k


def backfilled_prometheus(workdir: Path, text: str) -> contextlib.AbstractContextManager[SimpleNamespace]:
    """A real Prometheus over the backfilled history; it scrapes nothing itself."""
    data = backfill(text, workdir / "history.om", workdir / "prometheus-data")
    config = dump_yaml({"global": {"scrape_interval": f"{STEP}s"}}, workdir / "prometheus.yml")
    return prometheus_server(config, data, workdir / "prometheus.log")


@contextlib.contextmanager
def bot_up_for(seconds: float, users: int):
    """The bot's real health server, for a process that started ``seconds`` ago."""
    skew = [-seconds]  # BotState reads its start time from the clock once, at construction
    state = BotState("1.2.1", "testchan", clock=lambda: time.monotonic() + skew[0])
    skew[0] = 0.0
    state.set_connected(True)
    state.set_user_count(users)
    server = HealthServer(create_health_app(state), "127.0.0.1", 0).start()
    try:
        yield SimpleNamespace(state=state, url=f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()


def fire_alert(alertmanager_url: str, since: float) -> None:
    """The shipped rule's alert, as Prometheus would send it, firing since ``since``."""
    rules = yaml.safe_load((ROOT / "monitoring/rules/rosey-bot.rules.yml").read_text())
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == ALERT)
    summary = rule["annotations"]["summary"]
    for name, value in (("instance", INSTANCE), ("env", ENV)):
        summary = summary.replace(f"{{{{ $labels.{name} }}}}", value)
    alert = {
        "labels": {"alertname": ALERT, **rule["labels"], "job": "rosey-bot", "instance": INSTANCE, "env": ENV},
        "annotations": {"summary": summary},
        "startsAt": datetime.fromtimestamp(since, UTC).isoformat(),
    }
    assert post_json(f"{alertmanager_url}/api/v2/alerts", [alert]) == 200
    wait_until(lambda: get_json(f"{alertmanager_url}/api/v2/alerts"), 30, f"Alertmanager to list {ALERT}")


def chart_values(page, name) -> list[float]:
    # What Chart.js itself holds, not just what the server sent.
    return page.evaluate(f"(window.roseyDashboard.charts[{name!r}]?.data.datasets[0].data ?? []).map(p => p.y)")


def test_screenshot_over_an_hour_of_history(tmp_path, tab, alertmanager, dpkg_log):
    end = int(time.time()) // STEP * STEP
    text, users_now = history(end)
    with backfilled_prometheus(tmp_path, text) as prometheus:
        # The rule waits 5 min above its threshold before firing.
        fire_alert(alertmanager.url, since=end - (STEPS - SPIKE.start) * STEP + 300 + 60)
        with bot_up_for(UPTIME, users_now) as bot:
            config = h.dashboard_config(bot.url, prometheus.url, alertmanager.url, dpkg_log, refresh=15)
            page = tab.page
            with h.serve(create_app(config)) as url:
                page.goto(url)
                expect(page.locator("#card-users .value")).to_have_text(str(users_now), timeout=30_000)
                # Lines, not a point: nearly every 15 s step of the hour, and they move.
                for name in CHARTS:
                    wait_until(lambda n=name: len(chart_values(page, n)) >= STEPS - 25, 30, f"the {name} chart")
                    values = chart_values(page, name)
                    assert len(set(values)) > 5, (name, values)
                errors = chart_values(page, "errors_per_minute")
                assert max(errors[-10:]) > 5 * max(errors[:100]), "the error spike shows at the right edge"
                expect(page.locator("#alerts-table tbody tr")).to_have_count(1, timeout=30_000)
                expect(page.locator("body")).to_have_attribute("data-rendered", "true")
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert tab.errors == []

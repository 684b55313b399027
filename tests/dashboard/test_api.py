"""The JSON API through Flask's test client, against a real bot server, Prometheus and Alertmanager."""

from __future__ import annotations

import pytest

from rosey_bot.config import ConfigError
from rosey_bot.config import load as load_bot_config
from rosey_bot.dashboard.app import create_app
from rosey_bot.dashboard.cli import load_config
from tests.dashboard import dash_helpers as h
from tests.support.waiting import NOT_READY, wait_until

ROUTES = ["/", "/api/status", "/api/charts", "/api/alerts", "/api/deployments", "/api/config", "/js/chart.min.js"]


def client(bot_url=None, prometheus_url=None, alertmanager_url=None, dpkg="/nonexistent/dpkg.log"):
    config = h.dashboard_config(
        bot_url or h.closed_url(), prometheus_url or h.closed_url(), alertmanager_url or h.closed_url(), dpkg
    )
    return create_app(config).test_client()


def test_status_is_the_bots_live_health(bot):
    c = client(bot_url=bot.url)
    body = c.get("/api/status").get_json()
    assert body["ok"] is True and body["source"] == bot.url
    data = body["data"]
    assert (data["status"], data["connected"], data["channel"], data["version"]) == (
        "healthy",
        True,
        "testchan",
        "1.2.1",
    )
    assert (data["user_count"], data["requests_handled"], data["error_count"]) == (7, 5, 1)
    assert data["uptime_seconds"] >= 0
    # Live, not cached: the next request sees the bot's new state.
    bot.state.set_user_count(42)
    bot.state.set_connected(False)  # the bot answers 503 with its body; still the bot's own health
    data = c.get("/api/status").get_json()["data"]
    assert (data["user_count"], data["connected"], data["status"]) == (42, False, "unhealthy")


def test_unreachable_upstreams_are_reported_per_panel(dpkg_log):
    c = client(dpkg=dpkg_log)
    for path, who in (("/api/status", "Bot"), ("/api/charts", "Prometheus"), ("/api/alerts", "Alertmanager")):
        resp = c.get(path)
        body = resp.get_json()
        assert resp.status_code == 200 and body["ok"] is False, path
        assert body["error"].startswith(f"{who} unreachable"), body
        assert "data" not in body
    # The dpkg log does not depend on any of them.
    assert c.get("/api/deployments").get_json()["ok"] is True


def test_charts_come_from_prometheus_query_range(bot, prometheus):
    h.wait_for_series(prometheus.url)
    body = client(prometheus_url=prometheus.url).get("/api/charts").get_json()
    assert body["ok"] is True
    data = body["data"]
    assert data["end"] - data["start"] == 3600 and data["step"] == 15
    series = data["series"]
    assert set(series) == {"users", "requests_per_minute", "errors_per_minute"}
    assert all(series.values())
    for points in series.values():
        assert all(data["start"] <= t <= data["end"] for t, _ in points)
    assert series["users"][-1][1] == 7  # the bot's live bot_users gauge
    # No requests or errors after the first scrape: the rates are zero.
    assert series["requests_per_minute"][-1][1] == 0 and series["errors_per_minute"][-1][1] == 0


def test_charts_follow_the_bot(bot, prometheus):
    h.wait_for_series(prometheus.url)
    c = client(prometheus_url=prometheus.url)
    bot.state.set_user_count(11)
    for _ in range(120):
        bot.state.request_handled()
    bot.state.error()

    def moved():
        s = c.get("/api/charts").get_json()["data"]["series"]
        return s["users"][-1][1] == 11 and s["requests_per_minute"][-1][1] > 0 and s["errors_per_minute"][-1][1] > 0

    wait_until(moved, 30, "the charts to show the new users, requests and errors", errors=NOT_READY)


def test_charts_empty_before_any_scrape(tmp_path):
    # Prometheus up, but its only target is dead: no series yet, which is not an error.
    with h.prometheus(tmp_path, int(h.closed_url().rsplit(":", 1)[1])) as prom:
        body = client(prometheus_url=prom.url).get("/api/charts").get_json()
    assert body["ok"] is True
    assert body["data"]["series"] == {"users": [], "requests_per_minute": [], "errors_per_minute": []}


def test_alerts_lists_firing_alerts_from_alertmanager(alertmanager):
    c = client(alertmanager_url=alertmanager.url)
    before = c.get("/api/alerts").get_json()
    assert (before["ok"], before["data"]) == (True, [])
    h.post_alert(alertmanager.url, "BotHighErrorRate", "warning")
    h.post_alert(alertmanager.url, "BotDown", "critical")
    alerts = c.get("/api/alerts").get_json()["data"]
    assert [(a["name"], a["severity"], a["state"]) for a in alerts] == [
        ("BotDown", "critical", "active"),  # critical first
        ("BotHighErrorRate", "warning", "active"),
    ]
    assert alerts[0]["summary"] == "BotDown: rosey-bot on bot1:8000 is not answering"
    assert (alerts[0]["instance"], alerts[0]["env"]) == ("bot1:8000", "test")
    assert alerts[0]["starts_at"]


def test_deployments_from_dpkg_log(dpkg_log):
    body = client(dpkg=dpkg_log).get("/api/deployments").get_json()
    assert body["ok"] is True and body["source"] == str(dpkg_log)
    data = body["data"]
    assert data["installed_version"] == "1.2.1"
    assert [(e["action"], e["to_version"]) for e in data["events"]][:3] == [
        ("upgrade", "1.2.1"),
        ("downgrade", "1.1.0"),
        ("upgrade", "1.2.0"),
    ]


def test_deployments_unreadable_log(tmp_path):
    body = client(dpkg=tmp_path / "missing.log").get("/api/deployments").get_json()
    assert body["ok"] is False and body["error"].startswith(f"cannot read {tmp_path / 'missing.log'}")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_read_only(method, dpkg_log):
    c = client(dpkg=dpkg_log)
    for path in ROUTES:
        assert c.open(path, method=method).status_code == 405, (method, path)


def test_no_secrets_rendered(tmp_path, bot, dpkg_log):
    """channel_password and the account password never leave the server (nor are read at all)."""
    secret_file = tmp_path / "absent-password"  # the bot would fail to read it; the dashboard must not try
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f"""
[server]
url = "https://cytube.example.test"
channel = "testchan"
channel_password = "chanpw-S3CRET"
[account]
name = "rosey"
password_file = "{secret_file}"
[dashboard]
bot_health_url = "{bot.url}"
prometheus_url = "http://promuser:prompw-S3CRET@127.0.0.1:1"
alertmanager_url = "http://127.0.0.1:1"
dpkg_log = "{dpkg_log}"
"""
    )
    with pytest.raises(ConfigError, match="account.password_file: cannot read"):
        load_bot_config(config_file)
    config = load_config(config_file)
    assert config.server.channel_password == "" and config.account.password == ""
    c = create_app(config).test_client()
    for path in ROUTES:
        body = c.get(path).get_data(as_text=True)
        assert "S3CRET" not in body and "prompw" not in body, path
    assert c.get("/api/config").get_json()["prometheus_url"] == "http://127.0.0.1:1"


def test_page_and_assets_are_local(dpkg_log):
    c = client(dpkg=dpkg_log)
    page = c.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-refresh-seconds="2"' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    lib = c.get("/js/chart.min.js")
    assert lib.status_code == 200 and b"Chart.js v3" in lib.data[:200]
    assert c.get("/static/dashboard.js").status_code == 200


def test_missing_chart_js_is_a_clear_404(dpkg_log, tmp_path):
    config = h.dashboard_config(h.closed_url(), h.closed_url(), h.closed_url(), dpkg_log)
    resp = create_app(config, chart_js=str(tmp_path / "none.js")).test_client().get("/js/chart.min.js")
    assert resp.status_code == 404 and b"libjs-chart.js" in resp.data

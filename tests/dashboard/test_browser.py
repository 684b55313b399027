"""The page in real headless Chromium (Debian's) against a live bot, Prometheus and Alertmanager."""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import expect

from rosey_bot.dashboard.app import create_app
from tests.dashboard import dash_helpers as h
from tests.support.waiting import NOT_READY, wait_until

SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "dashboard.png"
WAIT_MS = 30_000  # the page refreshes every 2 s in these tests; Prometheus needs a few scrapes


def card(page, name):
    return page.locator(f"#card-{name} .value")


def chart_points(page, name) -> int:
    # What Chart.js itself holds, not just what the server sent.
    return page.evaluate(f"window.roseyDashboard.charts[{name!r}]?.data.datasets[0].data.length ?? 0")


def last_value(page, name) -> float:
    return page.evaluate(f"window.roseyDashboard.charts[{name!r}]?.data.datasets[0].data.at(-1)?.y ?? 0")


def expect_live_cards(page, users="7"):
    expect(card(page, "online")).to_have_text("online", timeout=WAIT_MS)
    expect(card(page, "channel")).to_have_text("testchan")
    expect(card(page, "users")).to_have_text(users, timeout=WAIT_MS)
    expect(card(page, "version")).to_have_text("1.2.1")
    expect(card(page, "uptime")).to_have_text(h.re_uptime())


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_page_shows_live_data(tmp_path, tab, bot, prometheus, alertmanager, dpkg_log):
    h.post_alert(alertmanager.url, "BotDown", "critical")
    h.wait_for_series(prometheus.url)
    config = h.dashboard_config(bot.url, prometheus.url, alertmanager.url, dpkg_log)
    page = tab.page
    with h.serve(create_app(config)) as url:
        page.goto(url)
        expect_live_cards(page)

        # Charts: every one has points, drawn by Chart.js.
        for name in ("users", "requests_per_minute", "errors_per_minute"):
            expect(page.locator(f"#chart-{name}")).not_to_have_attribute("data-points", "0", timeout=WAIT_MS)
            assert chart_points(page, name) > 0, name
        expect(page.locator("#charts-error")).to_be_hidden()
        # Traffic in the bot reaches the rate charts through Prometheus.
        for _ in range(40):
            bot.state.request_handled()
        bot.state.error()
        for name in ("requests_per_minute", "errors_per_minute"):
            wait_until(lambda n=name: last_value(page, n) > 0, 30, f"the {name} chart to rise", errors=NOT_READY)

        # The firing alert.
        alerts = page.locator("#alerts-table tbody tr")
        expect(alerts).to_have_count(1, timeout=WAIT_MS)
        expect(alerts.first).to_contain_text("BotDown")
        expect(alerts.first).to_contain_text("critical")
        expect(alerts.first).to_contain_text("is not answering")

        # Deployment history: the fixture's versions, newest first.
        rows = page.locator("#deployments-table tbody tr")
        expect(rows).to_have_count(7)
        expect(page.locator("#deployments-current")).to_have_text("Installed: rosey-bot 1.2.1")
        to_versions = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(7)]
        assert to_versions == ["1.2.1", "1.1.0", "1.2.0", "1.1.0", "—", "—", "0.9.0"]
        expect(rows.nth(1)).to_contain_text("downgrade")
        expect(rows.nth(2)).to_contain_text("not completed")
        expect(rows.nth(4)).to_contain_text("purge")

        expect(page.locator("body")).to_have_attribute("data-rendered", "true")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        # The page refreshes itself: a change in the bot shows up without a reload.
        bot.state.set_user_count(12)
        expect(card(page, "users")).to_have_text("12", timeout=WAIT_MS)

    width, height = png_size(SCREENSHOT)
    assert width >= 1000 and height >= 800
    # Everything came from the dashboard itself: no CDN, no direct upstream calls, no CSP violations.
    assert tab.requests and all(r.startswith(url + "/") for r in tab.requests), tab.requests
    assert tab.errors == []


def test_prometheus_stopped(tab, bot, prometheus, alertmanager, dpkg_log):
    h.wait_for_series(prometheus.url)
    config = h.dashboard_config(bot.url, prometheus.url, alertmanager.url, dpkg_log)
    page = tab.page
    with h.serve(create_app(config)) as url:
        page.goto(url)
        expect(page.locator("#chart-users")).not_to_have_attribute("data-points", "0", timeout=WAIT_MS)
        expect(page.locator("#charts-error")).to_be_hidden()

        prometheus.proc.stop()

        banner = page.locator("#charts-error")
        expect(banner).to_be_visible(timeout=WAIT_MS)
        expect(banner).to_contain_text("Prometheus unreachable")
        for name in ("users", "requests_per_minute", "errors_per_minute"):
            expect(page.locator(f"#chart-{name} .empty")).to_have_text("Prometheus unreachable")
            expect(page.locator(f"#chart-{name}")).to_have_attribute("data-points", "0")
        # The bot's own health still shows, live.
        bot.state.set_user_count(8)
        expect_live_cards(page, users="8")
        expect(page.locator("#status-error")).to_be_hidden()
        expect(page.locator("#alerts-none")).to_be_visible()
        expect(page.locator("#deployments-table tbody tr")).to_have_count(7)
        assert url in page.url


def test_every_upstream_unreachable(tab, tmp_path):
    """Bot, Prometheus, Alertmanager and dpkg's log all missing: each panel says which, nothing blank."""
    config = h.dashboard_config(h.closed_url(), h.closed_url(), h.closed_url(), tmp_path / "dpkg.log")
    page = tab.page
    with h.serve(create_app(config)) as url:
        page.goto(url)
        for panel, text in (
            ("status", "Bot unreachable"),
            ("charts", "Prometheus unreachable"),
            ("alerts", "Alertmanager unreachable"),
            ("deployments", "cannot read"),
        ):
            expect(page.locator(f"#{panel}-error")).to_contain_text(text, timeout=WAIT_MS)
            expect(page.locator(f"#{panel}")).to_have_attribute("data-state", "error")
        expect(card(page, "online")).to_have_text("unreachable")
        expect(card(page, "version")).to_have_text("—")
        expect(page.locator("body")).not_to_have_attribute("data-rendered", "true")
    assert tab.errors == []

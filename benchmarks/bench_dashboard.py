"""How long the dashboard takes to render its data, measured in Debian's headless Chromium.

Against real upstreams (the bot's health server, Prometheus scraping it,
Alertmanager holding one firing alert, a dpkg log fixture), each run opens
the page in a fresh browser context (empty cache) and reads the page's own
mark: milliseconds from navigation start until every panel is filled (status
cards, all three charts with points, alerts, deployments). Prints min, median
and max over the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, for tests.dashboard helpers

from playwright.sync_api import sync_playwright

from rosey_bot.dashboard.app import create_app
from tests.dashboard import dash_helpers as h


def measure(url: str, runs: int) -> tuple[list[float], list[float]]:
    timings, dom_ready = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=h.CHROMIUM, args=h.CHROMIUM_ARGS, headless=True)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 1100})
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("body[data-rendered=true]", timeout=30_000)
                timings.append(page.evaluate("window.roseyDashboard.state.renderedAt"))
                nav = "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                dom_ready.append(page.evaluate(nav))
                context.close()
        finally:
            browser.close()
    return timings, dom_ready


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        work = Path(tmp)
        with (
            h.bot_server() as bot,
            h.prometheus(work, bot.port) as prom,
            h.alertmanager(work) as am,
        ):
            h.post_alert(am.url, "BotDown", "critical")
            h.wait_for_series(prom.url)
            config = h.dashboard_config(bot.url, prom.url, am.url, h.dpkg_log(work), refresh=15)
            with h.serve(create_app(config)) as url:
                timings, dom_ready = measure(url, args.runs)
    print(
        f"dashboard render (navigation -> all cards, charts, alerts, deployments filled), "
        f"{len(timings)} cold loads in headless Chromium: "
        f"min {min(timings):.0f} ms, median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms "
        f"(of which page and scripts loaded: median {statistics.median(dom_ready):.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

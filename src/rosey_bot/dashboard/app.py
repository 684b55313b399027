"""The dashboard's Flask app: one page and the JSON API it polls (docs/DASHBOARD.md).

Read-only: every route is GET. Upstreams are read per request, server-side;
an unreachable one turns into ``{"ok": false, "error": "..."}`` for its panel
only, so the others keep working.
"""

from __future__ import annotations

import os
import time
import urllib.parse

from flask import Flask, abort, jsonify, render_template, send_file

from ..config import Config
from . import upstream
from .dpkglog import read_history

CHART_JS = "/usr/share/javascript/chart.js/chart.min.js"  # Debian's libjs-chart.js

# Everything the page loads comes from this app: no CDN, no inline script.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def public_url(url: str) -> str:
    """The URL without user:password@, which an upstream URL may carry."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def create_app(config: Config, chart_js: str = CHART_JS, package: str = "rosey-bot") -> Flask:
    app = Flask("rosey_bot.dashboard")
    dash = config.dashboard
    bot_url = config.bot_health_url
    shown = {
        name: public_url(url)
        for name, url in (
            ("bot", bot_url),
            ("prometheus", dash.prometheus_url),
            ("alertmanager", dash.alertmanager_url),
        )
    }

    def answer(fetch, **extra):
        try:
            data = fetch()
        except upstream.Unreachable as exc:
            return jsonify(ok=False, error=str(exc), fetched_at=time.time(), **extra)
        return jsonify(ok=True, data=data, fetched_at=time.time(), **extra)

    @app.get("/")
    def index():
        return render_template("index.html", refresh_seconds=dash.refresh_seconds)

    @app.get("/js/chart.min.js")
    def chart_library():
        if not os.path.isfile(chart_js):
            abort(404, description=f"{chart_js} is missing: install Debian's libjs-chart.js")
        return send_file(chart_js, mimetype="text/javascript", max_age=3600)

    @app.get("/api/status")
    def status():
        return answer(lambda: upstream.bot_health(bot_url), source=shown["bot"])

    @app.get("/api/charts")
    def charts():
        return answer(lambda: upstream.charts(dash.prometheus_url), source=shown["prometheus"])

    @app.get("/api/alerts")
    def alerts():
        return answer(lambda: upstream.active_alerts(dash.alertmanager_url), source=shown["alertmanager"])

    @app.get("/api/deployments")
    def deployments():
        def fetch():
            try:
                return read_history(dash.dpkg_log, package).to_json()
            except OSError as exc:
                raise upstream.Unreachable(f"cannot read {dash.dpkg_log}: {exc.strerror or exc}") from None

        return answer(fetch, source=dash.dpkg_log)

    @app.get("/api/config")
    def page_config():
        # What the page needs to know; URLs only, never the bot's credentials.
        return jsonify(
            refresh_seconds=dash.refresh_seconds,
            bot_health_url=shown["bot"],
            prometheus_url=shown["prometheus"],
            alertmanager_url=shown["alertmanager"],
            dpkg_log=dash.dpkg_log,
        )

    @app.after_request
    def headers(resp):
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        if resp.mimetype == "application/json":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    return app

"""Server-side reads of the bot, Prometheus and Alertmanager (the browser never talks to them).

Every call either returns data or raises ``Unreachable`` with one line an
operator can act on; the API turns that into ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import time

from .. import fetch
from ..health_contract import FIELDS as HEALTH_FIELDS
from ..health_contract import HEALTH_PATH

TIMEOUT = 3.0  # seconds; loopback upstreams answer in milliseconds or not at all
Unreachable = fetch.Unreachable  # what the API catches, per panel

# Chart name -> PromQL, summed over all scraped bots.
CHART_QUERIES = {
    "users": "sum(bot_users)",
    "requests_per_minute": "sum(rate(bot_requests_total[5m])) * 60",
    "errors_per_minute": "sum(rate(bot_errors_total[5m])) * 60",
}
RANGE_SECONDS = 3600
STEP_SECONDS = 15  # the shipped scrape interval


def bot_health(base_url: str) -> dict:
    # The bot answers 503 with its health body when it is down in its channel.
    body = fetch.get_json(f"{base_url.rstrip('/')}{HEALTH_PATH}", "Bot", TIMEOUT, accept=(503,))
    if not isinstance(body, dict) or "status" not in body:
        raise Unreachable("Bot answered something that is not its health report")
    # A whitelist: a field the bot adds later is never rendered by accident.
    return {k: body.get(k) for k in HEALTH_FIELDS}


def prometheus_range(base_url: str, expr: str, end: float) -> list[list[float]]:
    """One summed series as [[unix_seconds, value], ...]; empty when there is no data yet."""
    params = {"query": expr, "start": f"{end - RANGE_SECONDS:.3f}", "end": f"{end:.3f}", "step": STEP_SECONDS}
    body = fetch.get_json(f"{base_url.rstrip('/')}/api/v1/query_range", "Prometheus", TIMEOUT, params)
    if not isinstance(body, dict) or body.get("status") != "success":
        raise Unreachable("Prometheus refused the query: " + str(body.get("error") if isinstance(body, dict) else ""))
    result = body["data"]["result"]
    if not result:
        return []
    return [[float(t), float(v)] for t, v in result[0]["values"]]


def charts(base_url: str, now: float | None = None) -> dict:
    end = round(time.time() if now is None else now, 3)  # Prometheus works in milliseconds
    series = {name: prometheus_range(base_url, expr, end) for name, expr in CHART_QUERIES.items()}
    return {"start": end - RANGE_SECONDS, "end": end, "step": STEP_SECONDS, "series": series}


def active_alerts(base_url: str) -> list[dict]:
    params = {"active": "true", "silenced": "false", "inhibited": "false"}
    body = fetch.get_json(f"{base_url.rstrip('/')}/api/v2/alerts", "Alertmanager", TIMEOUT, params)
    if not isinstance(body, list):
        raise Unreachable("Alertmanager answered something that is not an alert list")
    alerts = []
    for a in body:
        labels, annotations = a.get("labels", {}), a.get("annotations", {})
        alerts.append(
            {
                "name": labels.get("alertname", "?"),
                "severity": labels.get("severity", ""),
                "instance": labels.get("instance", ""),
                "env": labels.get("env", ""),
                "state": a.get("status", {}).get("state", ""),
                "starts_at": a.get("startsAt", ""),
                "summary": annotations.get("summary", ""),
                "description": annotations.get("description", ""),
            }
        )
    # Critical first, then oldest first: the longest-burning fire on top.
    rank = {"critical": 0, "warning": 1}
    alerts.sort(key=lambda a: (rank.get(a["severity"], 2), a["starts_at"]))
    return alerts

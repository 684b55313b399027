"""Prometheus metrics read from the live BotState at scrape time."""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .. import dependencies
from ..state import BotState


class BotCollector:
    """Builds the bot_* families from one consistent snapshot per scrape."""

    def __init__(self, state: BotState):
        self._state = state
        # Read once, at start: the versions this process loaded, even after an
        # upgrade replaced the files under it and before the restart.
        self._dependencies = dependencies.installed()

    def collect(self):
        snap = self._state.snapshot()
        yield GaugeMetricFamily(
            "bot_connected", "1 when the bot is in its CyTube channel, else 0.", value=int(snap.connected)
        )
        yield GaugeMetricFamily(
            "bot_uptime_seconds", "Seconds since the bot process started.", value=snap.uptime_seconds
        )
        yield GaugeMetricFamily("bot_users", "Users in the channel, as last reported.", value=snap.user_count)
        yield CounterMetricFamily("bot_requests", "Commands the bot answered.", value=snap.requests_handled)
        yield CounterMetricFamily(
            "bot_errors",
            "Protocol errors, command failures, errorMsg events and failed reconnects.",
            value=snap.error_count,
        )
        yield GaugeMetricFamily(
            "bot_storage_writable", "1 while database writes succeed, 0 while they fail.", value=int(snap.storage_ok)
        )
        yield GaugeMetricFamily(
            "bot_storage_buffered_rows",
            "Rows recorded but not yet in the database (kept in memory while writes fail).",
            value=snap.buffered_rows,
        )
        yield CounterMetricFamily(
            "bot_storage_dropped_rows",
            "Rows lost because the write buffer was full while database writes failed.",
            value=snap.dropped_rows,
        )
        info = GaugeMetricFamily(
            "bot_build_info", "Always 1; labels name the running build.", labels=["version", "python", "channel"]
        )
        info.add_metric([snap.version, platform.python_version(), snap.channel], 1)
        yield info
        deps = GaugeMetricFamily(
            "bot_dependency_info",
            "Always 1; one series per Python distribution the bot runs on.",
            labels=["name", "version"],
        )
        for name, version in self._dependencies.items():
            deps.add_metric([name, version], 1)
        yield deps


def build_registry(state: BotState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(BotCollector(state))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry

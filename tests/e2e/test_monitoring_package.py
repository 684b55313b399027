"""Installing rosey-monitoring brings Debian's Prometheus and Alertmanager up
with our configuration, and the bot's target is `up`, under real systemd."""

import json
import shlex

import pytest

from tests.support import apt, container
from tests.support.container import CommandFailed, Container
from tests.support.e2e_releases import V1
from tests.support.waiting import wait_until

MONITORING_PACKAGES = ("prometheus", "prometheus-alertmanager")
# Until the services answer, the in-container client fails or prints nothing parseable.
CONTAINER_ERRORS = (CommandFailed, ValueError, KeyError)


@pytest.fixture(scope="module")
def monitoring_rootfs():
    # The containers reach no Debian mirror: Debian's own servers come with the rootfs.
    return container.rootfs(MONITORING_PACKAGES)


def get_json(c: Container, url: str) -> dict:
    script = f"import urllib.request as u; print(u.urlopen({url!r}, timeout=5).read().decode())"
    return json.loads(c.run(f"python3 -c {shlex.quote(script)}").stdout)


def test_monitoring_package_wires_prometheus_and_alertmanager(repository, monitoring_rootfs):
    with Container(monitoring_rootfs, "e2e-monitoring", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)
        apt.install(c, f"rosey-bot={V1} rosey-monitoring={V1}")
        apt.assert_running(c, V1)
        for unit in ("prometheus", "prometheus-alertmanager"):
            state = c.run(f"systemctl is-active {unit}", check=False).stdout.strip()
            assert state == "active", (
                f"{unit} is {state}:\n" + c.run(f"journalctl -u {unit} --no-pager -n 30", check=False).stdout
            )
        exec_start = c.run("systemctl show -p ExecStart prometheus").stdout
        assert "/usr/share/rosey-monitoring/prometheus/prometheus.yml" in exec_start

        def bot_target_up():
            targets = get_json(c, "http://127.0.0.1:9090/api/v1/targets")["data"]["activeTargets"]
            ours = [t for t in targets if t["labels"].get("job") == "rosey-bot"]
            return ours if ours and all(t["health"] == "up" for t in ours) else None

        ours = wait_until(bot_target_up, 90, "Prometheus to scrape the bot (target up)", 1, CONTAINER_ERRORS)
        assert ours[0]["labels"]["env"] and ours[0]["scrapeUrl"].endswith("/api/metrics")

        rules = get_json(c, "http://127.0.0.1:9090/api/v1/rules")["data"]["groups"]
        names = {r["name"] for g in rules for r in g["rules"]}
        assert {
            "BotDown",
            "BotRestarting",
            "HighErrorRate",
            "CriticalErrorRate",
            "ChannelEmpty",
            "BotMetricsAbsent",
            "VersionSkew",
        } <= names

        # The bot in this container cannot reach CyTube: BotDown is pending or firing in Prometheus.
        def botdown():
            alerts = get_json(c, "http://127.0.0.1:9090/api/v1/alerts")["data"]["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "BotDown"]

        wait_until(botdown, 90, "BotDown to be evaluated against the disconnected bot", 1, CONTAINER_ERRORS)
        status = get_json(c, "http://127.0.0.1:9093/api/v2/status")
        assert "critical" in status["config"]["original"] and "default" in status["config"]["original"]

"""Live alerting: real Prometheus, Alertmanager and SMTP listener on 127.0.0.1.

Prometheus runs on a test copy of the shipped config and rules that changes
timing only: scrape and evaluation every 1s instead of 15s, and BotDown's
`for: 1m` shortened to 3s. Expressions, labels and annotations are the shipped
ones; the real `for: 1m` is proven by `promtool test rules`
(monitoring/tests/rosey-bot.rules.test.yml). Alertmanager's group_wait and
group_interval are shortened the same way (see the alertmanager fixture).
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse

from tests.support.monitoring import MONITORING, RECIPIENTS, RENDERER, RULES, dump_yaml, load_yaml
from tests.support.net import free_port, get_json, post_json
from tests.support.waiting import NOT_READY, wait_until

ENV = "livetest"


def live_prometheus_config(tmp_path, bot_port: int, alertmanager_port: int):
    """The shipped layout (prometheus/, rules/, targets/) with faster timers, in tmp_path."""
    root = tmp_path / "monitoring"
    cfg = load_yaml(MONITORING / "prometheus" / "prometheus.yml")
    cfg["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    cfg["scrape_configs"][0]["scrape_interval"] = "1s"
    cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{alertmanager_port}"]
    config = dump_yaml(cfg, root / "prometheus" / "prometheus.yml")

    rules = load_yaml(RULES)
    for rule in rules["groups"][0]["rules"]:
        if rule["alert"] == "BotDown":
            rule["for"] = "3s"
    dump_yaml(rules, root / "rules" / RULES.name)
    dump_yaml([{"targets": [f"127.0.0.1:{bot_port}"], "labels": {"env": ENV}}], root / "targets" / "test.yml")
    return config


def alerts(prom, name: str) -> list[dict]:
    data = get_json(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
    return [a for a in data if a["labels"]["alertname"] == name]


def query(prom, expr: str) -> list[dict]:
    return get_json(f"{prom.url}/api/v1/query?query={urllib.parse.quote(expr)}")["data"]["result"]


def test_bot_down_fires_in_prometheus_and_mail_arrives(tmp_path, bot_endpoint, smtp, alertmanager, start_prometheus):
    prom = start_prometheus(live_prometheus_config(tmp_path, bot_endpoint.port, alertmanager.port))
    instance = f"127.0.0.1:{bot_endpoint.port}"

    # The target is scraped and the bot is seen connected (file_sd: Prometheus picks it up by itself).
    wait_until(
        lambda: query(prom, f'bot_connected{{job="rosey-bot",env="{ENV}",instance="{instance}"}} == 1'),
        60,
        "Prometheus to scrape bot_connected 1",
        errors=NOT_READY,
    )
    # Connected: several evaluations later BotDown is still not even pending.
    seen = query(prom, "count_over_time(bot_connected[1h])")[0]["value"][1]
    wait_until(lambda: int(query(prom, "count_over_time(bot_connected[1h])")[0]["value"][1]) >= int(seen) + 5,
               30, "five more scrapes", errors=NOT_READY)  # fmt: skip
    assert alerts(prom, "BotDown") == []

    bot_endpoint.state.set_connected(False)
    (firing,) = wait_until(
        lambda: [a for a in alerts(prom, "BotDown") if a["state"] == "firing"], 60, "BotDown firing", errors=NOT_READY
    )
    assert firing["labels"] == {
        "alertname": "BotDown",
        "severity": "critical",
        "job": "rosey-bot",
        "instance": instance,
        "env": ENV,
    }
    assert firing["annotations"]["summary"] == f"rosey-bot on {instance} ({ENV}) is not connected to CyTube"

    # Prometheus -> Alertmanager -> SMTP, to the critical receiver.
    (mail,) = smtp.inbox.wait_for(lambda m: m.subject.startswith("[FIRING]"), 60, "BotDown firing")
    assert mail.subject == f"[FIRING] BotDown env={ENV}"
    assert mail.to == [RECIPIENTS["critical"]]
    assert f"instance={instance}" in mail.body
    assert firing["annotations"]["summary"] in mail.body

    # Reconnecting resolves it, and the critical receiver says so.
    bot_endpoint.state.set_connected(True)
    (resolved,) = smtp.inbox.wait_for(lambda m: m.subject.startswith("[RESOLVED]"), 90, "BotDown resolved")
    assert resolved.subject == f"[RESOLVED] BotDown env={ENV}"
    assert resolved.to == [RECIPIENTS["critical"]]


def alert(name: str, env: str, instance: str, severity: str) -> dict:
    return {
        "labels": {"alertname": name, "env": env, "instance": instance, "severity": severity, "job": "rosey-bot"},
        "annotations": {"summary": f"{name} on {instance}", "description": f"test alert {name} {env} {instance}"},
    }


def settle(inbox, seconds: float) -> None:
    """Let Alertmanager run several group_intervals (2s) so a wrongly sent mail would have arrived."""
    deadline = time.monotonic() + seconds
    count = len(inbox.mails)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        assert len(inbox.mails) >= count


def test_two_alerts_of_one_group_arrive_as_one_mail(smtp, alertmanager):
    status = post_json(
        f"{alertmanager.url}/api/v2/alerts",
        [
            alert("HighErrorRate", "production", "bot1:8000", "warning"),
            alert("HighErrorRate", "production", "bot2:8000", "warning"),
        ],
    )
    assert status == 200
    (mail,) = smtp.inbox.wait_for(lambda m: "HighErrorRate" in m.subject, 30, "HighErrorRate group")
    assert mail.subject == "[FIRING] HighErrorRate env=production (2 alerts)"
    assert mail.to == [RECIPIENTS["default"]]
    assert "instance=bot1:8000" in mail.body and "instance=bot2:8000" in mail.body
    settle(smtp.inbox, 8)
    assert len(smtp.inbox.mails) == 1, [m.subject for m in smtp.inbox.mails]


def test_bot_down_inhibits_the_other_alerts_of_its_env(smtp, alertmanager):
    api = f"{alertmanager.url}/api/v2/alerts"
    assert post_json(api, [alert("BotDown", "staging", "bot1:8000", "critical")]) == 200
    others = [
        alert("HighErrorRate", "staging", "bot1:8000", "warning"),
        alert("ChannelEmpty", "staging", "bot2:8000", "info"),
        alert("HighErrorRate", "production", "bot3:8000", "warning"),  # another env: not inhibited
    ]
    assert post_json(api, others) == 200

    def state_of(name, env):
        (a,) = [a for a in get_json(api) if a["labels"]["alertname"] == name and a["labels"]["env"] == env]
        return a["status"]

    wait_until(
        lambda: state_of("HighErrorRate", "staging")["state"] == "suppressed", 30, "inhibition", errors=NOT_READY
    )
    assert state_of("ChannelEmpty", "staging")["state"] == "suppressed"
    assert state_of("ChannelEmpty", "staging")["inhibitedBy"]
    assert state_of("HighErrorRate", "production")["state"] == "active"
    assert state_of("BotDown", "staging")["state"] == "active"

    smtp.inbox.wait_for(lambda m: m.subject == "[FIRING] BotDown env=staging", 30, "BotDown staging")
    smtp.inbox.wait_for(lambda m: m.subject == "[FIRING] HighErrorRate env=production", 30, "production alert")
    settle(smtp.inbox, 8)
    subjects = sorted(m.subject for m in smtp.inbox.mails)
    assert subjects == ["[FIRING] BotDown env=staging", "[FIRING] HighErrorRate env=production"]


def test_a_target_listed_without_env_is_scraped_with_env_default(tmp_path, bot_endpoint, start_prometheus):
    config = live_prometheus_config(tmp_path, bot_endpoint.port, free_port())
    dump_yaml([{"targets": [f"127.0.0.1:{bot_endpoint.port}"]}], tmp_path / "monitoring" / "targets" / "test.yml")
    prom = start_prometheus(config)
    (series,) = wait_until(
        lambda: query(prom, 'bot_connected{job="rosey-bot"}'), 60, "a scrape of the bot", errors=NOT_READY
    )
    assert series["metric"]["env"] == "default"


def test_reload_rerenders_and_signals_alertmanager(tmp_path, alertmanager):
    """The drop-in's ExecReload: render, then SIGHUP the running Alertmanager; a bad mail.conf changes nothing."""

    def smarthost():
        return get_json(f"{alertmanager.url}/api/v2/status")["config"]["original"]

    mail = tmp_path / "mail.conf"  # written by the fixture's render step
    cmd = [sys.executable, str(RENDERER), "--share", str(MONITORING), "--out", str(alertmanager.config)]
    reload = [*cmd, "--mail", str(mail), "--reload-pid", str(alertmanager.proc.proc.pid)]

    mail.write_text(mail.read_text().replace("smarthost = 127.0.0.1:", "smarthost = 127.0.0.2:"))
    assert subprocess.run(reload, capture_output=True, text=True).returncode == 0
    wait_until(
        lambda: "smtp_smarthost: 127.0.0.2:" in smarthost(), 30, "Alertmanager to load the new config", errors=NOT_READY
    )

    mail.write_text(mail.read_text().replace("smarthost = 127.0.0.2:", "smarthost = nohost"))
    res = subprocess.run(reload, capture_output=True, text=True)
    assert res.returncode == 1 and "smtp.smarthost: must be host:port" in res.stderr
    assert "smtp_smarthost: 127.0.0.2:" in smarthost()
    assert alertmanager.proc.proc.poll() is None

"""The shipped monitoring files pass Prometheus' and Alertmanager's own checkers.

promtool and amtool are the real Debian binaries; the files are the ones the
rosey-monitoring package installs, straight from monitoring/.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.monitoring import MONITORING, RECIPIENTS, RENDERER, RULES, load_yaml, render_alertmanager, tool

EXPECTED_RECEIVER = {
    "BotDown": "critical",
    "BotRestarting": "default",
    "HighErrorRate": "default",
    "CriticalErrorRate": "critical",
    "ChannelEmpty": "info",
    "BotMetricsAbsent": "critical",
    "VersionSkew": "default",
    "StorageWritesFailing": "default",
    "StorageRowsDropped": "critical",
}
SEVERITY_RECEIVER = {"critical": "critical", "warning": "default", "info": "info"}


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def shipped_rules() -> list[dict]:
    return [r for g in load_yaml(RULES)["groups"] for r in g["rules"]]


def test_promtool_check_config():
    res = run(tool("promtool"), "check", "config", str(MONITORING / "prometheus" / "prometheus.yml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(EXPECTED_RECEIVER)} rules found" in res.stdout


def test_scrape_config_matches_spec():
    cfg = load_yaml(MONITORING / "prometheus" / "prometheus.yml")
    (job,) = cfg["scrape_configs"]
    assert job["job_name"] == "rosey-bot"
    assert job["metrics_path"] == "/api/metrics"
    assert job["scrape_interval"] == "15s"
    targets = load_yaml(MONITORING / "targets" / "rosey-bot.yml")
    assert all("env" in group["labels"] for group in targets)


def test_promtool_check_rules():
    res = run(tool("promtool"), "check", "rules", str(RULES))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(EXPECTED_RECEIVER)} rules found" in res.stdout


def test_promtool_test_rules():
    res = run(tool("promtool"), "test", "rules", str(MONITORING / "tests" / "rosey-bot.rules.test.yml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    tests = load_yaml(MONITORING / "tests" / "rosey-bot.rules.test.yml")["tests"]
    fires, quiet = set(), set()
    for case in tests:
        for check in case["alert_rule_test"]:
            (fires if check["exp_alerts"] else quiet).add(check["alertname"])
            for alert in check["exp_alerts"]:
                assert {"severity", "env"} <= alert["exp_labels"].keys(), case["name"]
                assert {"summary", "description"} <= alert["exp_annotations"].keys(), case["name"]
    names = {r["alert"] for r in shipped_rules()}
    assert names == set(EXPECTED_RECEIVER)
    assert fires == names, f"no firing case for {names - fires}"
    assert quiet == names, f"no quiet case for {names - quiet}"


def test_every_rule_has_severity_and_annotations():
    for rule in shipped_rules():
        assert rule["labels"]["severity"] in SEVERITY_RECEIVER, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


@pytest.fixture
def rendered(tmp_path):
    return render_alertmanager(tmp_path, 2525)


def test_amtool_check_config_on_the_rendered_shipped_config(tmp_path):
    # The mail.conf exactly as shipped, rendered by the shipped renderer.
    out = tmp_path / "alertmanager.yml"
    res = run(sys.executable, str(RENDERER), "--share", str(MONITORING), "--mail",
              str(MONITORING / "alertmanager" / "mail.conf"), "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run(tool("amtool"), "check-config", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 receivers" in res.stdout and "2 inhibit rules" in res.stdout and "1 templates" in res.stdout
    cfg = load_yaml(out)
    assert cfg["route"]["group_by"] == ["alertname", "env"]
    assert cfg["global"]["smtp_smarthost"] == "localhost:25"


@pytest.mark.parametrize("alertname", sorted(EXPECTED_RECEIVER))
def test_amtool_routes_each_alert_to_its_receiver(rendered, alertname):
    (rule,) = [r for r in shipped_rules() if r["alert"] == alertname]
    labels = [f"alertname={alertname}", f"severity={rule['labels']['severity']}", "env=production"]
    res = run(tool("amtool"), "config", "routes", "test", f"--config.file={rendered}", *labels)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.split() == [EXPECTED_RECEIVER[alertname]]
    # --verify.receivers makes amtool itself fail on a mismatch: check that it can.
    wrong = next(r for r in RECIPIENTS if r != EXPECTED_RECEIVER[alertname])
    res = run(tool("amtool"), "config", "routes", "test", f"--config.file={rendered}",
              f"--verify.receivers={wrong}", *labels)  # fmt: skip
    assert res.returncode != 0


def test_receivers_mail_the_configured_addresses(rendered):
    cfg = load_yaml(rendered)
    to = {r["name"]: r["email_configs"][0]["to"] for r in cfg["receivers"]}
    assert to == RECIPIENTS


def test_inhibition_rule_botdown_suppresses_its_env(rendered):
    cfg = load_yaml(rendered)
    assert {
        "source_matchers": ['alertname="BotDown"'],
        "target_matchers": ['alertname!="BotDown"'],
        "equal": ["env"],
    } in cfg["inhibit_rules"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (("smtp", "smarthost", "mail.example.org"), "smtp.smarthost: must be host:port"),
        (("smtp", "require_tls", "perhaps"), "smtp.require_tls: must be true or false"),
        (("recipients", "critical", "not-an-address"), "recipients.critical: must be one or more"),
        (("recipients", "info", ""), "recipients.info: missing"),
        (("smtp", "auth_password_file", "/nonexistent/pw"), "smtp.auth_password_file: /nonexistent/pw does not"),
        (("smtp", "smtp_port", "25"), "smtp.smtp_port: unknown key"),
    ],
)
def test_renderer_rejects_a_bad_mail_conf_and_keeps_the_old_config(tmp_path, edit, message):
    out = render_alertmanager(tmp_path, 2525)
    before = out.read_text()
    section, key, value = edit
    text = (MONITORING / "alertmanager" / "mail.conf").read_text()
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} =")]
    bad = tmp_path / "bad-mail.conf"
    at = lines.index(f"[{section}]") + 1
    bad.write_text("\n".join(lines[:at] + [f"{key} = {value}"] + lines[at:]) + "\n")
    res = run(sys.executable, str(RENDERER), "--share", str(MONITORING), "--mail", str(bad), "--out", str(out))
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"render-alertmanager: {bad}: {message}" in res.stderr
    assert out.read_text() == before

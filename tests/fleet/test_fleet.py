"""Issue #8: Ansible provision/deploy/rollback/audit over real SSH on a fleet of systemd-nspawn hosts.

The tests are steps of one story on one fleet and run in file order:
provision -> deploy V1 -> deploy V2 (rolling) -> audit -> a broken release
stops at the first host -> rollback to V1 -> rollback to the previous version.
"""

from __future__ import annotations

import json
import re

from tests.support import apt, releases
from tests.support.container import Container

from .conftest import BROKEN, OPEN_PORT, V1, V2, password_for
from .lab import read_timings, wait_until

HEALTH = (
    "python3 -c 'import urllib.request as u, sys\n"
    'try: r = u.urlopen("http://127.0.0.1:8000/api/health", timeout=3)\n'
    "except u.HTTPError as e: r = e\n"
    'sys.stdout.write(str(r.status) + " " + r.read().decode())\''
)


def health(c: Container) -> tuple[int, dict]:
    code, body = c.run(HEALTH).stdout.split(" ", 1)
    return int(code), json.loads(body)


def assert_ready_on(fleet, version: str, hosts=None) -> None:
    for h in hosts or fleet.hosts:
        c = h.container
        assert apt.installed_version(c) == version, f"{h.name}: dpkg -l shows another version"
        code, body = health(c)
        assert (code, body["version"], body["connected"]) == (200, version, True), f"{h.name}: {code} {body}"


def invocation(c: Container) -> str:
    return c.run("systemctl show -p InvocationID --value rosey-bot.service").stdout.strip()


def run_timed(fleet, what: str, playbook: str, *extra: str, check: bool = True):
    """Run a playbook; collect the per-host times the rosey role measured during it."""
    before = len(read_timings(fleet.timings_file))
    proc = fleet.ansible.playbook(playbook, *extra, check=check)
    new = read_timings(fleet.timings_file)[before:]
    for t in new:
        label = what if t["event"] == "installed" else f"{what}: automatic rollback"
        fleet.measured.append((label, t["host"], t["version"], t["seconds"]))
        print(f"fleet: {label}: {t['host']} healthy on {t['version']} after {t['seconds']:.2f} s")
    return proc, new


def recap(output: str) -> dict[str, dict[str, int]]:
    rows = {}
    for m in re.finditer(r"^(\S+)\s+: ((?:\w+=\d+\s*)+)$", output, re.M):
        rows[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return rows


def test_provision(fleet):
    fleet.ansible.playbook("provision.yml")
    for h in fleet.hosts:
        c = h.container
        sources = c.run("cat /etc/apt/sources.list.d/rosey.sources").stdout
        assert f"URIs: {fleet.repo_url}\n" in sources
        assert "Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg\n" in sources
        policy = c.run("apt-cache policy rosey-bot").stdout
        assert V1 in policy and V2 in policy, f"{h.name} should see both releases:\n{policy}"
        assert c.run("stat -c '%a %U %G' /etc/rosey-bot/password").stdout.split() == ["640", "root", "rosey-bot"]
        assert c.run("cat /etc/rosey-bot/password").stdout == password_for(h.name) + "\n"
        config = c.run("cat /etc/rosey-bot/config.toml").stdout
        assert f'name = "rosey-{h.name}"' in config and 'password_file = "/etc/rosey-bot/password"' in config
        assert password_for(h.name) not in config
        assert c.run("systemctl is-active nftables.service").stdout.strip() == "active"

    # The firewall in action on h1: SSH and the configured port answer, anything else is dropped.
    h1 = fleet.hosts[0]
    for port in (OPEN_PORT, OPEN_PORT + 1):
        h1.container.run(f"systemd-run --unit=probe-{port} python3 -m http.server {port} --bind 0.0.0.0")
    try:
        for port in (OPEN_PORT, OPEN_PORT + 1):
            probe = f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=1)'"
            wait_until(lambda p=probe: h1.container.run(p, check=False).returncode == 0, 20, f"probe on {port}")
        assert fleet.lab.tcp_open(h1.addr, 22), "SSH must stay reachable"
        assert fleet.lab.tcp_open(h1.addr, OPEN_PORT), f"port {OPEN_PORT} is configured open"
        assert not fleet.lab.tcp_open(h1.addr, OPEN_PORT + 1), f"port {OPEN_PORT + 1} is not configured: dropped"
    finally:
        h1.container.run(f"systemctl stop probe-{OPEN_PORT} probe-{OPEN_PORT + 1}", check=False)

    # Provisioning again changes nothing.
    proc = fleet.ansible.playbook("provision.yml")
    rows = recap(proc.stdout)
    assert set(rows) == {h.name for h in fleet.hosts}, proc.stdout[-2000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in rows.values()), rows


def test_deploy_v1_makes_every_host_healthy(fleet):
    _, timed = run_timed(fleet, f"deploy {V1} (fresh install)", "deploy.yml", "-e", f"rosey_version={V1}")
    assert_ready_on(fleet, V1)
    assert [(t["host"], t["event"], t["version"]) for t in timed] == [(h.name, "installed", V1) for h in fleet.hosts]
    # Each bot logged in with its own account, read from the password file provision wrote.
    for h in fleet.hosts:
        wait_until(lambda h=h: f"login rosey-{h.name} registered\n" in fleet.cytube_lines, 10, f"{h.name}'s login")


def test_provision_on_a_running_fleet_restarts_the_bot_behind_the_gate(fleet):
    before = {h.name: invocation(h.container) for h in fleet.hosts}
    proc = fleet.ansible.playbook("provision.yml", "-e", "rosey_log_level=DEBUG")
    assert "RUNNING HANDLER [rosey : Check rosey-bot is ready after the restart]" in proc.stdout
    for h in fleet.hosts:
        assert 'level = "DEBUG"' in h.container.run("cat /etc/rosey-bot/config.toml").stdout
        assert invocation(h.container) != before[h.name], f"{h.name}: the bot was not restarted"
    assert_ready_on(fleet, V1)


def test_deploy_v2_rolls_through_the_hosts(fleet):
    proc, timed = run_timed(fleet, f"deploy {V2} (upgrade)", "deploy.yml", "-e", f"rosey_version={V2}")
    assert_ready_on(fleet, V2)
    assert [t["host"] for t in timed] == [h.name for h in fleet.hosts]
    # serial: one host at a time, each started only after the one before was healthy.
    for earlier, later in zip(timed, timed[1:], strict=False):
        assert later["at"] - later["seconds"] >= earlier["at"] - 0.05, (earlier, later)
    assert len(re.findall(r"^PLAY \[Deploy rosey-bot", proc.stdout, re.M)) == len(fleet.hosts), "one batch per host"


def test_audit_prints_the_table(fleet, tmp_path):
    table = tmp_path / "audit.txt"
    proc = fleet.ansible.playbook("audit.yml", "-e", f"rosey_audit_file={table}", "-e", f"rosey_expect_version={V2}")
    lines = table.read_text().splitlines()
    print("\n".join(lines))
    assert lines[0].split() == ["HOST", "INSTALLED", "RUNNING", "STATUS"]
    assert [ln.split() for ln in lines[1:]] == [[h.name, V2, V2, "healthy"] for h in fleet.hosts]
    assert lines[0] in proc.stdout, "the table is printed, not only written"

    # A host whose bot is down shows as such, and the verification fails on it.
    h3 = fleet.hosts[2]
    h3.container.run("systemctl stop rosey-bot.service")
    try:
        proc = fleet.ansible.playbook(
            "audit.yml", "-e", f"rosey_audit_file={table}", "-e", f"rosey_expect_version={V2}", check=False
        )
        assert proc.returncode != 0, "verification must fail while a host's bot is down"
        assert table.read_text().splitlines()[3].split() == [h3.name, V2, "-", "DOWN"]
    finally:
        h3.container.run("systemctl start rosey-bot.service && rosey-healthcheck --ready --wait 20 -q")


def test_broken_release_stops_at_the_first_host(fleet):
    releases.publish([fleet.broken_deb], fleet.repo_root)
    first, others = fleet.hosts[0], fleet.hosts[1:]
    untouched = {h.name: invocation(h.container) for h in others}

    proc, timed = run_timed(
        fleet, f"deploy {BROKEN} (broken)", "deploy.yml", "-e", f"rosey_version={BROKEN}", check=False
    )
    assert proc.returncode != 0, "a failed health gate must fail the run"
    assert f"rosey-bot {BROKEN} failed its health gate on {first.name}" in proc.stdout
    assert "not ready" in proc.stdout, "the health check's reason is shown"
    # The first host really ran the broken release, and is back on V2, ready.
    assert f"rosey-bot:amd64 {V2} {BROKEN}" in first.container.run("grep ' upgrade ' /var/log/dpkg.log").stdout
    assert_ready_on(fleet, V2, [first])
    assert [(t["host"], t["event"], t["version"]) for t in timed] == [(first.name, "rolled-back", V2)]
    # No other host was touched: same bot process, no trace of the broken version.
    for h in others:
        assert invocation(h.container) == untouched[h.name], f"{h.name}'s bot was restarted"
        assert BROKEN not in h.container.run("cat /var/log/dpkg.log").stdout, f"{h.name} saw {BROKEN}"
    assert_ready_on(fleet, V2, others)
    rows = recap(proc.stdout)
    assert rows[first.name]["failed"] == 1 and not any(h.name in rows for h in others), rows


def test_rollback_to_a_named_version_then_to_the_previous(fleet):
    run_timed(fleet, f"rollback to {V1} (named)", "rollback.yml", "-e", f"rosey_version={V1}")
    assert_ready_on(fleet, V1)
    # Without a version: each host goes back to what it ran before the last change (V2).
    run_timed(fleet, "rollback to previous", "rollback.yml")
    assert_ready_on(fleet, V2)

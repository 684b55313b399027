"""Ansible provision/deploy/rollback/audit over real SSH on a fleet of systemd-nspawn hosts.

The tests are steps of one story on one fleet and run in file order:
a dry run on fresh hosts -> provision (and without the password: refused) ->
deploy V1 (rollback with nothing recorded: refused) -> deploy V2 (rolling) ->
audit -> dry runs of every playbook -> a version the repository lacks ->
a broken release stops at the first host -> rollback to V1 -> rollback to
the previous version -> a guest bot, chosen on purpose.
"""

from __future__ import annotations

import difflib
import json
import re

import pytest

from tests.support import apt, releases
from tests.support.container import Container
from tests.support.e2e_releases import NOT_READY, V1, V2
from tests.support.paths import ROOT
from tests.support.waiting import wait_until

from .lab import ACCOUNT_PASSWORD, CHANNEL_PASSWORD, OPEN_PORT, SUITE, read_timings

# One worker runs the whole module under parallel runs: one lab of booted hosts serves every test, in order.
pytestmark = pytest.mark.xdist_group("fleet")

# The fleet's settings: a drop-in of its own, read after the conffile (which stays the package's).
FLEET_DROPIN = "/etc/rosey-bot/conf.d/50-fleet.toml"
HEALTH = (
    "python3 -c 'import urllib.request as u, sys\n"
    'try: r = u.urlopen("http://127.0.0.1:8000/api/health", timeout=3)\n'
    "except u.HTTPError as e: r = e\n"
    'sys.stdout.write(str(r.status) + " " + r.read().decode())\''
)


def health(c: Container) -> tuple[int, dict]:
    code, body = c.run(HEALTH).stdout.split(" ", 1)
    return int(code), json.loads(body)


def candidate(c: Container) -> str:
    """The version `apt-get upgrade` would leave rosey-bot at (apt's candidate, pins applied)."""
    return re.search(r"Candidate: (\S+)", c.run("apt-cache policy rosey-bot").stdout).group(1)


def assert_ready_on(fleet, version: str, hosts=None) -> None:
    for h in hosts or fleet.hosts:
        c = h.container
        assert apt.installed_version(c) == version, f"{h.name}: dpkg -l shows another version"
        # Pinned: whatever newer version the repository offers, apt keeps this one.
        assert candidate(c) == version, f"{h.name}: apt would move rosey-bot to {candidate(c)}"
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
    """The PLAY RECAP rows of the bot hosts (not localhost, where the inventory check runs)."""
    rows = {}
    for m in re.finditer(r"^(\S+)\s+: ((?:\w+=\d+\s*)+)$", output, re.M):
        if m.group(1) != "localhost":
            rows[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return rows


def task_outputs(output: str, name: str) -> list[str]:
    """What each run of the task called ``name`` printed."""
    return [part.split("\n", 1)[1] for part in output.split("\nTASK [")[1:] if part.startswith(name + "]")]


def changed_on(task_output: str) -> set[str]:
    return set(re.findall(r"^changed: \[([^\]]+)\]", task_output, re.M))


# Everything provision, deploy and rollback may change on a host, as one comparable text:
# files (metadata and content), the account, dpkg's state, the bot process, the firewall.
STATE = r"""
for p in /etc/rosey-bot /etc/apt/sources.list.d /etc/apt/preferences.d /usr/share/keyrings /etc/nftables.conf \
         /var/lib/rosey-deploy /var/lib/apt/lists /var/lib/dpkg/status; do
    [ -e "$p" ] && find "$p" -printf '%p %y %m %u %g %s %i %T@\n' | sort
done
find /etc/rosey-bot /etc/apt/sources.list.d /etc/apt/preferences.d /usr/share/keyrings /var/lib/rosey-deploy \
     /etc/nftables.conf /var/lib/dpkg/status -type f -exec sha256sum {} + 2>/dev/null | sort
getent passwd rosey-bot; getent group rosey-bot
dpkg-query -W -f='${db:Status-Abbrev}${Version}\n' rosey-bot 2>&1
systemctl show -p ActiveState,InvocationID rosey-bot.service nftables.service
nft list ruleset | sha256sum
"""


def fleet_state(fleet) -> dict[str, str]:
    return {h.name: h.container.run(STATE, check=False).stdout for h in fleet.hosts}


def assert_unchanged(fleet, before: dict[str, str], what: str, but: str = "^$") -> None:
    """Every host's state is as ``before``, except for lines matching the regex ``but``."""
    after = fleet_state(fleet)
    for name in before:
        old, new = ([ln for ln in s[name].splitlines() if not re.match(but, ln)] for s in (before, after))
        assert new == old, f"{what} changed {name}:\n" + "\n".join(
            difflib.unified_diff(old, new, "before", "after", lineterm="")
        )


def assert_no_secret(proc, *secrets: str) -> None:
    output = proc.stdout + proc.stderr
    for secret in (ACCOUNT_PASSWORD, CHANNEL_PASSWORD, *secrets):
        assert secret not in output, f"the output shows the secret {secret!r}"
    # The rendered drop-in holds the channel password: none of it may be shown.
    assert "channel_password" not in output and "[server]" not in output, "the output shows the fleet's drop-in"


def dry_run(fleet, playbook: str, *extra: str, env=None):
    """``--check --diff`` of a playbook: it must succeed, change nothing on any host and show no secret."""
    before = fleet_state(fleet)
    timings = len(read_timings(fleet.timings_file))
    proc = fleet.ansible.playbook(playbook, "--check", "--diff", *extra, env=env)
    assert_unchanged(fleet, before, f"the dry run of {playbook}")
    assert len(read_timings(fleet.timings_file)) == timings, "a dry run measured an install that did not happen"
    assert_no_secret(proc, *(env or {}).values())
    return proc


def test_dry_run_of_provision_on_fresh_hosts(fleet):
    proc = dry_run(fleet, "provision.yml")
    rows = recap(proc.stdout)
    assert set(rows) == {h.name for h in fleet.hosts}, proc.stdout[-2000:]
    assert all(r["changed"] > 0 and r["failed"] == 0 for r in rows.values()), rows
    # It says what it would write (the sources file is no secret: it is shown).
    assert f"URIs: {fleet.repo_url}" in proc.stdout and f"Suites: {SUITE}" in proc.stdout


def test_provision(fleet):
    fleet.ansible.playbook("provision.yml")
    for h in fleet.hosts:
        c = h.container
        sources = c.run("cat /etc/apt/sources.list.d/rosey.sources").stdout
        assert f"URIs: {fleet.repo_url}\n" in sources
        assert "Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg\n" in sources
        assert f"Suites: {SUITE}\n" in sources
        policy = c.run("apt-cache policy rosey-bot").stdout
        assert V1 in policy and V2 in policy, f"{h.name} should see both releases:\n{policy}"
        assert c.run("stat -c '%a %U %G' /etc/rosey-bot/password").stdout.split() == ["640", "root", "rosey-bot"]
        assert c.run("cat /etc/rosey-bot/password").stdout == ACCOUNT_PASSWORD + "\n"
        config = c.run(f"cat {FLEET_DROPIN}").stdout
        assert f'name = "rosey-{h.name}"' in config and 'password_file = "/etc/rosey-bot/password"' in config
        assert ACCOUNT_PASSWORD not in config
        # It holds the channel password: root and the service only.
        assert c.run(f"stat -c '%a %U %G' {FLEET_DROPIN}").stdout.split() == ["640", "root", "rosey-bot"]
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


def test_provision_without_the_password_fails_before_changing_any_host(fleet):
    before = fleet_state(fleet)
    for env, extra in [
        ({"ROSEY_ACCOUNT_PASSWORD": None}, ()),  # unset
        ({"ROSEY_ACCOUNT_PASSWORD": ""}, ()),  # empty counts as unset
        ({"ROSEY_ACCOUNT_PASSWORD": "  "}, ()),  # and so does blank (the bot strips the file)
        ({}, ("-e", "rosey_guest=true")),  # guest and a password: which one was meant?
    ]:
        proc = fleet.ansible.playbook("provision.yml", *extra, check=False, env=env)
        assert proc.returncode != 0, f"provision with {env} {extra} must fail"
        assert "ROSEY_ACCOUNT_PASSWORD" in proc.stdout, proc.stdout[-3000:]
        assert "nothing was changed" in proc.stdout
        assert_no_secret(proc)
        assert_unchanged(fleet, before, f"the refused provision ({env} {extra})")


def test_deploy_v1_makes_every_host_healthy(fleet):
    _, timed = run_timed(fleet, f"deploy {V1} (fresh install)", "deploy.yml", "-e", f"rosey_version={V1}")
    assert_ready_on(fleet, V1)
    assert [(t["host"], t["event"], t["version"]) for t in timed] == [(h.name, "installed", V1) for h in fleet.hosts]
    # Each bot logged in with its own account, read from the password file provision wrote.
    for h in fleet.hosts:
        wait_until(lambda h=h: f"login rosey-{h.name} registered\n" in fleet.cytube_lines, 10, f"{h.name}'s login")


def test_rollback_with_no_recorded_version_changes_nothing(fleet):
    # A fresh install records no previous version: there is nothing to go back to.
    before = fleet_state(fleet)
    proc = fleet.ansible.playbook("rollback.yml", check=False)
    assert proc.returncode != 0
    for h in fleet.hosts:
        assert f"{h.name} has no recorded previous version" in proc.stdout, proc.stdout[-3000:]
    assert "-e rosey_version=X.Y.Z" in proc.stdout
    assert_unchanged(fleet, before, "the refused rollback")


def test_provision_on_a_running_fleet_restarts_the_bot_behind_the_gate(fleet):
    before = {h.name: invocation(h.container) for h in fleet.hosts}
    proc = fleet.ansible.playbook("provision.yml", "-e", "rosey_log_level=DEBUG")
    assert "RUNNING HANDLER [rosey : Check rosey-bot is ready after the restart]" in proc.stdout
    for h in fleet.hosts:
        assert 'level = "DEBUG"' in h.container.run(f"cat {FLEET_DROPIN}").stdout
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

    def audit(check: bool = True):
        proc = fleet.ansible.playbook(
            "audit.yml", "-e", f"rosey_audit_file={table}", "-e", f"rosey_expect_version={V2}", check=check
        )
        return proc, [ln.split() for ln in table.read_text().splitlines()]

    proc, rows = audit()
    print(table.read_text())
    assert rows[0] == ["HOST", "INSTALLED", "PINNED", "RUNNING", "STATUS"]
    assert rows[1:] == [[h.name, V2, V2, V2, "healthy"] for h in fleet.hosts]
    assert table.read_text().splitlines()[0] in proc.stdout, "the table is printed, not only written"

    # A host whose bot is down shows as such, and the verification fails on it.
    last = fleet.hosts[-1]
    last.container.run("systemctl stop rosey-bot.service")
    try:
        proc, rows = audit(check=False)
        assert proc.returncode != 0, "verification must fail while a host's bot is down"
        assert rows[-1] == [last.name, V2, V2, "-", "DOWN"]
        assert rows[1:-1] == [[h.name, V2, V2, V2, "healthy"] for h in fleet.hosts[:-1]]
    finally:
        last.container.run("systemctl start rosey-bot.service && rosey-healthcheck --ready --wait 20 -q")

    # A host without its pin is one `apt-get upgrade` away from another version: not healthy.
    first = fleet.hosts[0]
    first.container.run("mv /etc/apt/preferences.d/rosey-bot /root/rosey-bot.pin")
    try:
        proc, rows = audit(check=False)
        assert proc.returncode != 0, "verification must fail while a host is not pinned"
        assert rows[1] == [first.name, V2, "-", V2, "UNPINNED"]
        assert rows[2:] == [[h.name, V2, V2, V2, "healthy"] for h in fleet.hosts[1:]]
    finally:
        first.container.run("mv /root/rosey-bot.pin /etc/apt/preferences.d/rosey-bot")


def dependency_rows(proc, asked: str) -> list[list[str]]:
    """The rows (host, running, shipped, match) of audit.yml's dependency table."""
    (out,) = task_outputs(proc.stdout, f"Print the hosts running {asked}")
    lines = re.findall(r"^\s*- (.*)$", out, re.M)
    assert lines[1].split() == ["HOST", "RUNNING", "SHIPPED", "MATCH"], out
    return [ln.split() for ln in lines[2:]]


def test_audit_lists_the_hosts_running_a_dependency(fleet):
    # Which hosts run werkzeug X: the version the lock pins, as the bots report it and the BOM lists it.
    werkzeug = re.search(r"^werkzeug==(\S+) ", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    asked = f"Werkzeug=={werkzeug}"  # the name as PyPI spells it: compared normalised
    proc = fleet.ansible.playbook("audit.yml", "-e", f"rosey_audit_dependency={asked}")
    assert dependency_rows(proc, asked) == [[h.name, werkzeug, werkzeug, "yes"] for h in fleet.hosts]

    # Another version: no host matches. A host whose bot is down: what it ships, and "?" for what runs.
    last = fleet.hosts[-1]
    last.container.run("systemctl stop rosey-bot.service")
    try:
        asked = "werkzeug==0.0.1"
        proc = fleet.ansible.playbook("audit.yml", "-e", f"rosey_audit_dependency={asked}")
        expected = [[h.name, werkzeug, werkzeug, "no"] for h in fleet.hosts[:-1]] + [[last.name, "?", werkzeug, "?"]]
        assert dependency_rows(proc, asked) == expected
    finally:
        last.container.run("systemctl start rosey-bot.service && rosey-healthcheck --ready --wait 20 -q")


def test_dry_run_of_provision_on_a_running_fleet(fleet):
    # A rotated account password, a new channel password and a new log level: all would change.
    rotated = {"ROSEY_ACCOUNT_PASSWORD": "acct-R0tated-Jm3p"}
    channel = "chan-R0tated-Tb8c"
    extra = ("-e", f"rosey_channel_password={channel}", "-e", "rosey_log_level=DEBUG")
    proc = dry_run(fleet, "provision.yml", *extra, env=rotated)
    assert channel not in proc.stdout + proc.stderr
    rows = recap(proc.stdout)
    assert all(r["changed"] > 0 and r["failed"] == 0 for r in rows.values()), rows
    for task in (
        "rosey : Write the account password file (root and the service only)",
        "rosey : Write /etc/rosey-bot/conf.d/50-fleet.toml",
    ):
        assert {h for out in task_outputs(proc.stdout, task) for h in changed_on(out)} == {h.name for h in fleet.hosts}
    assert "RUNNING HANDLER [rosey : Restart rosey-bot]" in proc.stdout, "the restart it would do is shown"


def assert_dry_run_would_go_to_v1(fleet, proc) -> None:
    """What deploying V1 over V2 would do, read from a dry run's output; and nothing of it done."""
    everyone = {h.name for h in fleet.hosts}
    installs = task_outputs(proc.stdout, f"rosey : Install rosey-bot {V1}")
    assert {h for out in installs for h in changed_on(out)} == everyone, proc.stdout[-3000:]
    # The version each host runs now was read (not skipped): the rollback record it would write.
    records = task_outputs(proc.stdout, "rosey : Record the version this host ran before (for rollback.yml)")
    assert {h for out in records for h in changed_on(out)} == everyone, proc.stdout[-3000:]
    assert all(f"-{V1}\n+{V2}\n" in out for out in records), records
    assert "healthy after" not in proc.stdout, "a dry run reports no time to healthy for an install it did not do"
    assert_ready_on(fleet, V2)


def test_dry_run_of_deploy(fleet):
    assert_dry_run_would_go_to_v1(fleet, dry_run(fleet, "deploy.yml", "-e", f"rosey_version={V1}"))


def test_dry_run_of_rollback_to_the_previous_version(fleet):
    assert_dry_run_would_go_to_v1(fleet, dry_run(fleet, "rollback.yml"))


def test_dry_run_of_audit(fleet):
    # The audit only reads: a dry run gives the real table and verdict.
    proc = dry_run(fleet, "audit.yml", "-e", f"rosey_expect_version={V2}")
    for h in fleet.hosts:
        row = rf"{h.name}\s+{re.escape(V2)}\s+{re.escape(V2)}\s+{re.escape(V2)}\s+healthy"  # installed, pinned, running
        assert re.search(row, proc.stdout), proc.stdout[-3000:]


def test_deploy_of_a_version_the_repository_lacks_changes_nothing(fleet):
    before = fleet_state(fleet)
    proc = fleet.ansible.playbook("deploy.yml", "-e", "rosey_version=9.9.9", check=False)
    assert proc.returncode != 0
    for h in fleet.hosts:
        assert f"rosey-bot 9.9.9 is not in the repository {h.name} uses (it offers {V1}, {V2}" in proc.stdout or (
            f"rosey-bot 9.9.9 is not in the repository {h.name} uses (it offers {V2}, {V1}" in proc.stdout
        ), proc.stdout[-3000:]
    assert "Install rosey-bot 9.9.9" not in proc.stdout, "no host may start installing it"
    # A real deploy refreshes the package lists first (a cache); nothing else may change.
    assert_unchanged(fleet, before, "the refused deploy", but=r"/var/lib/apt/lists/")


def test_broken_release_stops_at_the_first_host(fleet):
    releases.publish([fleet.broken_deb], fleet.repo_root)
    first, others = fleet.hosts[0], fleet.hosts[1:]
    untouched = {h.name: invocation(h.container) for h in others}

    proc, timed = run_timed(
        fleet, f"deploy {NOT_READY} (broken)", "deploy.yml", "-e", f"rosey_version={NOT_READY}", check=False
    )
    assert proc.returncode != 0, "a failed health gate must fail the run"
    assert f"rosey-bot {NOT_READY} failed its health gate on {first.name}" in proc.stdout
    assert "not ready" in proc.stdout, "the health check's reason is shown"
    # The first host really ran the broken release, and is back on V2, ready.
    assert f"rosey-bot:amd64 {V2} {NOT_READY}" in first.container.run("grep ' upgrade ' /var/log/dpkg.log").stdout
    assert_ready_on(fleet, V2, [first])
    assert [(t["host"], t["event"], t["version"]) for t in timed] == [(first.name, "rolled-back", V2)]
    # No other host was touched: same bot process, no trace of the broken version.
    for h in others:
        assert invocation(h.container) == untouched[h.name], f"{h.name}'s bot was restarted"
        assert NOT_READY not in h.container.run("cat /var/log/dpkg.log").stdout, f"{h.name} saw {NOT_READY}"
    assert_ready_on(fleet, V2, others)
    # The repository offers the newer NOT_READY; the pin keeps every host where the deploy left it.
    for h in fleet.hosts:
        assert NOT_READY in h.container.run("apt-cache policy rosey-bot").stdout
        upgrade = h.container.run("apt-get -s -o Debug::NoLocking=1 upgrade").stdout
        assert "Inst rosey-bot" not in upgrade, f"{h.name}: apt-get upgrade would move rosey-bot:\n{upgrade}"
    # And it is the pin that does it: without it, apt would take NOT_READY.
    first.container.run("mv /etc/apt/preferences.d/rosey-bot /root/rosey-bot.pin")
    try:
        assert f"Inst rosey-bot [{V2}] ({NOT_READY}" in first.container.run("apt-get -s upgrade").stdout
    finally:
        first.container.run("mv /root/rosey-bot.pin /etc/apt/preferences.d/rosey-bot")
    rows = recap(proc.stdout)
    # The others were only checked (every host is, before the rollout starts), never changed.
    assert rows[first.name]["failed"] == 1, rows
    assert all(rows[h.name]["changed"] == 0 and rows[h.name]["failed"] == 0 for h in others), rows


def test_rollback_to_a_named_version_then_to_the_previous(fleet):
    run_timed(fleet, f"rollback to {V1} (named)", "rollback.yml", "-e", f"rosey_version={V1}")
    assert_ready_on(fleet, V1)
    # Without a version: each host goes back to what it ran before the last change (V2).
    run_timed(fleet, "rollback to previous", "rollback.yml")
    assert_ready_on(fleet, V2)


def test_guest_bot_chosen_on_purpose(fleet):
    guest = fleet.hosts[-1]
    c = guest.container
    before = invocation(c)
    fleet.ansible.playbook(
        "provision.yml",
        "--limit",
        guest.name,
        "-e",
        "rosey_guest=true",
        "-e",
        "rosey_account_name=fleet-guest",
        env={"ROSEY_ACCOUNT_PASSWORD": None},
    )
    assert c.run("test -e /etc/rosey-bot/password", check=False).returncode == 1, "a guest has no password file"
    config = c.run(f"cat {FLEET_DROPIN}").stdout
    assert 'name = "fleet-guest"' in config and 'password_file = ""' in config
    assert invocation(c) != before, "the bot was restarted with its new config"
    wait_until(lambda: "login fleet-guest guest\n" in fleet.cytube_lines, 20, "the guest login")
    assert_ready_on(fleet, V2, [guest])

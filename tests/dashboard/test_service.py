"""systemd/rosey-dashboard.service, hardening and all, under a real systemd (a systemd-nspawn container).

The real rosey-bot package (release V1 of tests/support/e2e_releases.py) is installed
from the signed test repository; the bot runs (it cannot reach CyTube from the
container, so it reports itself unhealthy) and dpkg's log holds the fixture
history. The unit must start, read the config the bot reads (every layer: an operator's
conf.d drop-in moves the bot's health port, and the dashboard must follow it), read
/var/log/dpkg.log, reach the bot over loopback and serve 127.0.0.1:5000, while its own
user still cannot read /etc/rosey-bot. A bad drop-in stops it with 78, without a restart loop.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.dashboard.dash_helpers import FIXTURES, listening
from tests.support import apt, container
from tests.support.e2e_releases import V1

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dashboard-service")]  # one booted container
ROOT = Path(__file__).resolve().parents[2]
GET = """
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:5000" + sys.argv[1], timeout=5).read().decode())
"""
CONFIG = """
[server]
url = "https://cytube.example.test"
channel = "svcchan"
channel_password = "chanpw-S3CRET"
[account]
name = "rosey"
password_file = "/etc/rosey-bot/password"
"""
# As the Ansible fleet writes it (deploy/roles/rosey): a health port other than the default
# 8000, a [dashboard] key, and the channel password (so the drop-in is 0640 root:rosey-bot).
FLEET_DROPIN = "/etc/rosey-bot/conf.d/50-fleet.toml"
FLEET = """
[server]
channel_password = "fleet-chanpw-S3CRET"
[health]
port = 8123
[dashboard]
refresh_seconds = 7
"""
SNAPSHOT = "/run/rosey-dashboard/config.toml"


def get(box, path: str) -> str:
    return box.run(f"python3 /run/get.py {path}").stdout


def fetch(box, path: str) -> dict:
    return json.loads(get(box, path))


def wait(box, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (container.CommandFailed, ValueError, KeyError) as exc:
            last = exc
        time.sleep(0.5)
    journal = box.run("journalctl -u rosey-dashboard --no-pager -n 40", check=False).stdout
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})\n--- journal ---\n{journal}")


def credentials(box, pid: str) -> tuple[str, str, list[str]]:
    """The user, group and supplementary groups of process ``pid``, as numbers."""
    status = box.run(f"cat /proc/{pid}/status").stdout
    uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
    gid = re.search(r"^Gid:\s+(\d+)", status, re.M).group(1)
    return uid, gid, re.search(r"^Groups:(.*)$", status, re.M).group(1).split()


def as_process(box, pid: str, command: str):
    """``command`` run with the credentials of process ``pid``."""
    uid, gid, groups = credentials(box, pid)
    creds = f"--reuid={uid} --regid={gid} " + (f"--groups={','.join(groups)}" if groups else "--clear-groups")
    return box.run(f"setpriv {creds} {command}", check=False)


@pytest.fixture(scope="module")
def box(repository, base_rootfs):
    if os.geteuid() != 0:
        pytest.fail("this test needs root (systemd-nspawn, nsenter)")
    with container.Container(base_rootfs, f"dash-{os.getpid()}", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        apt.install(c, f"rosey-bot={V1}")  # unconfigured: the bot is not started yet
        yield c


def test_unit_runs_hardened_under_systemd(box):
    box.write("/etc/rosey-bot/config.toml", CONFIG, mode="0640")
    box.run("chgrp rosey-bot /etc/rosey-bot/config.toml")
    box.write("/etc/rosey-bot/password", "acct-pw-S3CRET\n", mode="0640")
    box.run("chgrp rosey-bot /etc/rosey-bot/password")
    box.write(FLEET_DROPIN, FLEET, mode="0640")
    box.run(f"chgrp rosey-bot {FLEET_DROPIN}")
    box.copy_in(FIXTURES / "dpkg.log", "/var/log/dpkg.log")
    box.write("/run/get.py", GET)
    box.run("systemctl restart rosey-bot rosey-dashboard.service")
    box.run("rosey-healthcheck --wait 30")
    # The bot listens at the drop-in's port, and nothing at the default one...
    tables = box.run("cat /proc/net/tcp /proc/net/tcp6").stdout
    assert (listening(tables, 8123), listening(tables, 8000)) == ({"127.0.0.1"}, set())

    status = wait(box, lambda: fetch(box, "/api/status"), 60, "the dashboard to answer on 127.0.0.1:5000")
    # ...and the dashboard found it there, not at the default 8000.
    assert (status["ok"], status["source"]) == (True, "http://127.0.0.1:8123"), status
    assert (status["data"]["channel"], status["data"]["connected"]) == ("svcchan", False)
    page_config = json.loads(get(box, "/api/config"))
    assert (page_config["refresh_seconds"], page_config["bot_health_url"]) == (7, "http://127.0.0.1:8123")
    deployments = fetch(box, "/api/deployments")
    assert deployments["ok"], deployments
    assert deployments["data"]["installed_version"] == "1.2.1"
    # Prometheus is not installed in the container: reported, not fatal.
    assert fetch(box, "/api/charts")["error"].startswith("Prometheus unreachable")
    page = get(box, "/")
    assert "S3CRET" not in page and "Active alerts" in page

    show = box.run("systemctl show rosey-dashboard -p ActiveState -p NRestarts -p User").stdout
    assert "ActiveState=active" in show and "NRestarts=0" in show, show
    tables = box.run("cat /proc/net/tcp /proc/net/tcp6").stdout
    assert listening(tables, 5000) == {"127.0.0.1"}
    # DynamicUser: not root, not the bot's user, in no group of the bot's, so with its credentials
    # /etc/rosey-bot (the config, the drop-in, the password file) cannot be read.
    pid = box.run("systemctl show -P MainPID rosey-dashboard").stdout.strip()
    uid, gid, groups = credentials(box, pid)
    bot = box.run("id -u rosey-bot").stdout.strip(), box.run("getent group rosey-bot | cut -d: -f3").stdout.strip()
    assert uid not in ("0", bot[0]) and bot[1] not in (gid, *groups), (uid, gid, groups)
    for path in ("/etc/rosey-bot/config.toml", FLEET_DROPIN, "/etc/rosey-bot/password"):
        denied = as_process(box, pid, f"cat {path}")
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, (path, denied)
    # What it reads instead: the export's copy, in a directory only it (and root) can enter,
    # with every key it uses and no secret, not even the drop-in's.
    assert box.run("stat -c '%a %u' /run/rosey-dashboard").stdout.split() == ["700", uid]
    assert box.run(f"stat -c '%a %u %g' {SNAPSHOT}").stdout.split() == ["640", "0", gid]
    copy = box.run(f"cat {SNAPSHOT}").stdout
    assert f"health.port = 8123  # {FLEET_DROPIN}\n" in copy
    assert "S3CRET" not in copy and "password" not in copy and "svcchan" not in copy, copy
    assert as_process(box, pid, f"cat {SNAPSHOT}").stdout == copy  # the checks above can pass
    other = box.run(f"setpriv --reuid=nobody --regid=nogroup --clear-groups cat {SNAPSHOT}", check=False)
    assert "Permission denied" in other.stderr, other
    exposure = box.run("systemd-analyze security rosey-dashboard.service --no-pager", check=False).stdout
    level = re.search(r"Overall exposure level for rosey-dashboard.service: ([0-9.]+)", exposure)
    assert level and float(level.group(1)) <= 2.0, exposure[-2000:]


def test_a_bad_dropin_stops_it_with_78_and_no_restart_loop(box):
    # The export runs before the dashboard: a failed ExecStartPre= alone would be restarted
    # every RestartSec= (RestartPreventExitStatus= looks only at the main process), so the unit
    # would sit in "auto-restart", never in "failed".
    box.write("/etc/rosey-bot/conf.d/60-typo.toml", "[health]\nport = 0\n", mode="0640")
    try:
        box.run("systemctl restart rosey-dashboard.service", check=False)
        wait(
            box,
            lambda: "SubState=failed" in box.run("systemctl show rosey-dashboard -p SubState").stdout,
            60,
            "the dashboard to fail on the bad drop-in",
        )
        show = box.run("systemctl show rosey-dashboard -p SubState -p NRestarts -p ExecMainStatus").stdout
        assert sorted(show.split()) == ["ExecMainStatus=78", "NRestarts=0", "SubState=failed"], show
        journal = box.run("journalctl -u rosey-dashboard --no-pager -n 20 -o cat").stdout
        # The export's one line names the file and key to fix.
        assert (
            "rosey-dashboard: /etc/rosey-bot/conf.d/60-typo.toml: health.port: must be between 1 and 65535" in journal
        ), journal
        assert box.run(f"test -e {SNAPSHOT}", check=False).returncode != 0  # no copy to serve an old config from
    finally:
        box.run("rm -f /etc/rosey-bot/conf.d/60-typo.toml")

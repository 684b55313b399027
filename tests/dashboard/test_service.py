"""systemd/rosey-dashboard.service, hardening and all, under a real systemd (a systemd-nspawn container).

The real rosey-bot package (release V1 of tests/support/e2e_releases.py) is installed
from the signed test repository; the bot runs (it cannot reach CyTube from the
container, so it reports itself unhealthy) and dpkg's log holds the fixture
history. The unit must start, read the config it is handed as a credential,
read /var/log/dpkg.log, reach the bot over loopback and serve 127.0.0.1:5000.
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

pytestmark = pytest.mark.e2e
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


@pytest.fixture
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
    box.copy_in(FIXTURES / "dpkg.log", "/var/log/dpkg.log")
    box.write("/run/get.py", GET)
    box.run("systemctl restart rosey-bot rosey-dashboard.service")
    box.run("rosey-healthcheck --wait 30")

    status = wait(box, lambda: fetch(box, "/api/status"), 60, "the dashboard to answer on 127.0.0.1:5000")
    assert status["ok"], status
    assert (status["data"]["channel"], status["data"]["connected"]) == ("svcchan", False)
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
    # DynamicUser: not root, not the bot's user, and not allowed to read the password file.
    pid = box.run("systemctl show -P MainPID rosey-dashboard").stdout.strip()
    assert box.run(f"stat -c %u /proc/{pid}").stdout.strip() not in ("0", "")
    exposure = box.run("systemd-analyze security rosey-dashboard.service --no-pager", check=False).stdout
    level = re.search(r"Overall exposure level for rosey-dashboard.service: ([0-9.]+)", exposure)
    assert level and float(level.group(1)) <= 2.0, exposure[-2000:]

"""apt inside a test container: add the rosey repository the way a server would.

A test client tracks suite testing, where every published release lands (docs/DESIGN.md#channels)."""

from __future__ import annotations

import json
import shlex
import time

from .container import Container

SOURCES = """Types: deb
URIs: {uri}
Suites: {suite}
Components: main
Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg
"""

# Operators (and Ansible) put config in place before the first install; keep it.
KEEP_CONFIG = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

TEST_CONFIG = """[server]
url = "http://127.0.0.1:9"
channel = "e2e"

[health]
port = 8000
"""


def add_repository(
    c: Container,
    uri: str = "file:/srv/apt",
    key_in_guest: str = "/srv/apt/rosey-archive-keyring.gpg",
    suite: str = "testing",
):
    c.run(f"install -m 0644 {key_in_guest} /usr/share/keyrings/rosey-archive-keyring.gpg")
    c.write("/etc/apt/sources.list.d/rosey.sources", SOURCES.format(uri=uri, suite=suite))
    c.run("apt-get update -q")


def install(c: Container, spec: str, check: bool = True, downgrade: bool = False):
    """apt-get install with closed stdin, as automation runs it; returns (process, seconds)."""
    flags = "--allow-downgrades " if downgrade else ""
    start = time.monotonic()
    proc = c.run(f"apt-get install -y -q {flags}{KEEP_CONFIG} {spec}", check=check)
    return proc, time.monotonic() - start


def installed_version(c: Container, package: str = "rosey-bot") -> str:
    """What `dpkg -l` reports, as an operator auditing a server reads it."""
    out = c.run(f"dpkg -l {package}").stdout
    row = [line for line in out.splitlines() if line.split()[1:2] == [package]]
    assert row, f"dpkg -l lists no {package}:\n{out}"
    status, _, version = row[0].split()[:3]
    assert status == "ii", f"dpkg -l shows {package} as {status!r}, not installed and configured:\n{out}"
    return version


HEALTH_FIELDS = {
    "status",
    "connected",
    "channel",
    "uptime_seconds",
    "version",
    "user_count",
    "requests_handled",
    "error_count",
    "storage",
}


def health(c: Container, port: int = 8000) -> dict:
    """GET /api/health from inside the container (200 or 503 both carry the JSON)."""
    script = (
        "import urllib.request as u, sys\n"
        f"try: r = u.urlopen('http://127.0.0.1:{port}/api/health', timeout=3)\n"
        "except u.HTTPError as e: r = e\n"
        "sys.stdout.write(r.read().decode())"
    )
    return json.loads(c.run(f"python3 -c {shlex.quote(script)}").stdout)


def assert_running(c: Container, version: str) -> None:
    """The unit is active, /api/health reports ``version`` and dpkg -l agrees."""
    state = c.run("systemctl is-active rosey-bot", check=False).stdout.strip()
    assert state == "active", (
        f"rosey-bot.service is {state!r} after installing {version}:\n"
        + c.run("journalctl -u rosey-bot --no-pager -n 30", check=False).stdout
    )
    proc = c.run(f"rosey-healthcheck --wait 20 --expect-version {shlex.quote(version)}", check=False)
    assert proc.returncode == 0, f"health check after installing {version}: {proc.stderr.strip()}"
    body = health(c)
    assert body["version"] == version, f"/api/health reports version {body['version']!r}, expected {version!r}"
    assert set(body) == HEALTH_FIELDS
    assert installed_version(c) == version, f"dpkg -l disagrees: expected {version}"

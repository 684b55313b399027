"""apt inside a test container: add the rosey repository the way a server would."""

from __future__ import annotations

import time

from .container import Container

SOURCES = """Types: deb
URIs: {uri}
Suites: bookworm
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


def add_repository(c: Container, uri: str = "file:/srv/apt", key_in_guest: str = "/srv/apt/rosey-archive-keyring.gpg"):
    c.run(f"install -m 0644 {key_in_guest} /usr/share/keyrings/rosey-archive-keyring.gpg")
    c.write("/etc/apt/sources.list.d/rosey.sources", SOURCES.format(uri=uri))
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

"""Tried as a new user would: docs/DEPLOYMENT.md's "Manual install on one server" and the README's quick
start, as written, on a fresh Debian 12 server (a booted container) lead to a healthy bot installed from
the repository, with no file edited by hand (the CyTube answers are preseeded for debconf).

The section's ```sh blocks run in order as one `sh -e` script (one shell session, as the section asks;
a failing command stops the run). The only change: the values of the four variables its first block
sets (REPO_URL, REPO_FINGERPRINT, CYTUBE_URL, CHANNEL) become the test's repository (served over HTTP),
its key's real fingerprint, and the fake CyTube server's address and channel.

The fresh server is the tests' bookworm rootfs plus curl and gpg (the section's `apt-get install -y curl
gpg` finds them installed: the containers reach no Debian mirror).
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.docs import doccommands as dc
from tests.docs.netlab import private_net
from tests.support import apt, container
from tests.support.container import Container
from tests.support.e2e_releases import GOOD
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

NEWEST = GOOD[-1]  # the newest release a new user's repository offers (tests/docs/conftest.py)

DEPLOYMENT = ROOT / "docs/DEPLOYMENT.md"
SECTION = "Manual install on one server"
VARIABLES = ("REPO_URL", "REPO_FINGERPRINT", "CYTUBE_URL", "CHANNEL")
# Each document's server commands: (file, heading, index of the block that sets VARIABLES). The README's
# quick start is the same flow in one block, after a block for the build machine.
DOCS = {"deployment": (DEPLOYMENT, SECTION, 0), "readme": (ROOT / "README.md", "Quick start on a server", 1)}


def section_script(values: dict[str, str], upto: int | None = None, doc: str = "deployment") -> str:
    path, heading, skip = DOCS[doc]
    blocks = dc.blocks_of_section(path, heading)[skip:]
    assert blocks, f"{heading!r} of {path.name} has no server commands"
    first = blocks[0]
    for var, value in values.items():
        first, n = re.subn(rf"^{var}=.*$", f"{var}={value}", first, flags=re.M)
        assert n == 1, f"the first block of {heading!r} must set {var} once (found {n})"
    return "set -e\n" + "\n".join([first, *blocks[1:upto]])


def fingerprints(keyring) -> list[str]:
    out = subprocess.run(
        ["gpg", "--show-keys", "--with-colons", str(keyring)], capture_output=True, text=True, check=True
    ).stdout
    return [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")]


@pytest.fixture(scope="module")
def fresh_server_rootfs():
    return container.rootfs(("curl", "gpg"))


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_manual_install_from_the_docs(doc, root_only, good_repository, fresh_server_rootfs, tmp_path):
    fpr = fingerprints(good_repository / "rosey-archive-keyring.gpg")[0]
    with private_net(good_repository, tmp_path) as net:
        values = {"REPO_URL": net.repo_url, "REPO_FINGERPRINT": fpr, "CYTUBE_URL": net.cytube_url}
        values["CHANNEL"] = net.channel
        name = f"docs-newuser-{doc}"
        with Container(fresh_server_rootfs, name, private_network=False, extra_args=net.nspawn_args) as c:
            assert c.run("dpkg -s rosey-bot", check=False).returncode != 0, "not a fresh server"
            out = c.run(section_script(values, doc=doc), timeout=600).stdout

            # Healthy, in its channel, on the newest release the repository offers.
            assert "rosey-healthcheck: ok" in out, out[-2000:]
            assert apt.installed_version(c) == NEWEST
            assert c.run("systemctl is-active rosey-bot", check=False).stdout.strip() == "active"
            body = apt.health(c)
            assert body["status"] == "healthy" and body["connected"] is True, body
            assert body["channel"] == net.channel and body["version"] == NEWEST, body
            # Installed from the repository over HTTP, trusted through Signed-By (no apt-key).
            policy = c.run("apt-cache policy rosey-bot").stdout
            installed = re.search(rf"\*\*\* {re.escape(NEWEST)} \d+\n((?:\s+\d+ .*\n?)+)", policy)
            assert installed and net.repo_url in installed.group(1), policy
            assert re.search(rf'"GET /pool/\S*/rosey-bot_{re.escape(NEWEST)}_amd64\.deb HTTP', net.http_log.read_text())
            sources = c.run("cat /etc/apt/sources.list.d/rosey.sources").stdout
            assert f"URIs: {net.repo_url}" in sources
            assert "Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg" in sources
            assert c.run("test -e /etc/apt/trusted.gpg", check=False).returncode != 0
            # No file edited by hand: the answers are debconf's layer, the conffile is as shipped.
            assert c.run("cat /etc/rosey-bot/config.toml").stdout == (ROOT / "packaging/config.toml").read_text()
            layer = c.run("cat /etc/rosey-bot/debconf.toml").stdout
            assert f'url = "{net.cytube_url}"' in layer and f'channel = "{net.channel}"' in layer
            if doc == "deployment":  # it shows where each setting comes from
                assert f'server.url = "{net.cytube_url}"  # /etc/rosey-bot/debconf.toml' in out, out[-2000:]


def test_manual_install_refuses_a_key_with_another_fingerprint(
    root_only, good_repository, fresh_server_rootfs, tmp_path
):
    """The fingerprint check is real: with the wrong fingerprint the key is not trusted and nothing installs."""
    with private_net(good_repository, tmp_path) as net:
        values = {"REPO_URL": net.repo_url, "REPO_FINGERPRINT": "0123456789ABCDEF0123456789ABCDEF01234567"}
        values |= {"CYTUBE_URL": net.cytube_url, "CHANNEL": net.channel}
        with Container(fresh_server_rootfs, "docs-wrongkey", private_network=False, extra_args=net.nspawn_args) as c:
            proc = c.run(section_script(values, upto=3), check=False, timeout=300)
            assert proc.returncode != 0, "the install went on with an unverified key"
            assert c.run("test -e /usr/share/keyrings/rosey-archive-keyring.gpg", check=False).returncode != 0
            assert c.run("dpkg -s rosey-bot", check=False).returncode != 0

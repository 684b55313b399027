"""How the fleet labs are wired: the hosts' packages, the fake CyTube, SSH keys, inventories and the
served repository. Shared by the fleet fixture (conftest.py), the pipeline test and the fleet benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import container
from tests.support.e2e_releases import build_chain
from tests.support.paths import ROOT
from tests.support.waiting import wait_until

from .lab import (
    ACCOUNT_PASSWORD,
    CHANNEL_PASSWORD,
    HUB_ADDR,
    OPEN_PORT,
    VENV_BIN,
    Ansible,
    Host,
    Lab,
)

# Two bot hosts: a first one and the rest, which is all a rollout, a failed gate or an audit tells apart
# (the pipeline test runs its 3+3). Each more host costs the suite about 3 CPU-minutes of Ansible.
BOT_HOSTS = (("h1", 11), ("h2", 12))
# python3-debian: ansible.builtin.deb822_repository; unattended-upgrades: pins are checked against it.
BOT_PACKAGES = ("openssh-server", "python3-apt", "python3-debian", "nftables", "unattended-upgrades")
REPO_PACKAGES = ("nginx",)
# The pipeline's repository host: the CI runner reaches it over SSH only (repo-sync.sh and rsync).
SYNC_REPO_PACKAGES = ("nginx", "openssh-server", "rsync")
CHANNEL = "fleet"


@dataclass
class Fleet:
    lab: Lab
    repo_root: Path
    repo: Host
    hosts: list[Host]
    ansible: Ansible
    timings_file: Path
    broken_deb: Path
    cytube_lines: list[str] = field(default_factory=list)
    measured: list[tuple[str, str, str, float]] = field(default_factory=list)

    @property
    def repo_url(self) -> str:
        return f"http://{self.repo.addr}/"


def lab_inputs(repo_packages: tuple[str, ...]) -> tuple[dict[str, Path], Path, Path]:
    """What a lab is made from, built or taken from the caches before any namespace exists: the release
    chain (version -> .deb), the bot hosts' root filesystem and the repository host's."""
    if os.geteuid() != 0:
        pytest.fail("the fleet labs need root (network namespaces, systemd-nspawn); run `make test` as root")
    return build_chain(), container.rootfs(BOT_PACKAGES), container.rootfs(repo_packages)


def start_cytube(lab: Lab, hosts: list[Host]) -> tuple[str, list[str]]:
    """The fake CyTube server on the hub's address, one registered account per host: (url, its output lines)."""
    lines: list[str] = []
    accounts = [f"--account=rosey-{h.name}:{ACCOUNT_PASSWORD}" for h in hosts]
    serve = ["-m", "tests.fleet.cytube_serve", "--host", HUB_ADDR, "--channel", CHANNEL]
    proc = lab.spawn(
        [str(VENV_BIN / "python"), *serve, f"--channel-password={CHANNEL_PASSWORD}", *accounts],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    url = wait_until(
        lambda: next((ln.split()[1] for ln in lines if ln.startswith("listening ")), None),
        30,
        "the fake CyTube server",
    )
    return url, lines


def ssh_key(work: Path) -> Path:
    key = work / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleet-test", "-f", str(key)], check=True)
    return key


def boot_ssh_hosts(
    lab: Lab, hosts: list[Host], rootfs: Path, key: Path, known_hosts: Path, timeout: float = 60
) -> None:
    """Boot each host with sshd taking ``key``; its host key (the rootfs's, checked) goes to ``known_hosts``."""
    host_key = (rootfs / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]
    with known_hosts.open("a") as f:
        f.write("".join(f"{h.addr} {' '.join(host_key)}\n" for h in hosts))
    for h in hosts:
        lab.boot(h, rootfs, timeout=timeout)
        h.container.write("/root/.ssh/authorized_keys", key.with_suffix(".pub").read_text(), mode="0600")
    for h in hosts:
        ssh = ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
        ssh += ["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=3", f"root@{h.addr}", "true"]
        wait_until(lambda ssh=ssh: lab.in_hub(*ssh, check=False).returncode == 0, 30, f"sshd on {h.name}")


def bot_group_vars(repo: Host, keyring: Path, suite: str, cytube_url: str, timings: Path) -> dict:
    """The rosey_bots settings of a lab inventory: quick reconnects, short health waits."""
    return {
        "ansible_user": "root",
        "rosey_env": "fleet-test",
        "rosey_repo_url": f"http://{repo.addr}/",
        "rosey_repo_suite": suite,
        "rosey_repo_keyring_src": str(keyring),
        "rosey_server_url": cytube_url,
        "rosey_channel": CHANNEL,
        "rosey_channel_password": CHANNEL_PASSWORD,
        "rosey_bot_settings": {
            "response_timeout": 2.0,
            "reconnect_min_delay": 0.2,
            "reconnect_max_delay": 1.0,
            "connect_interval": 0.5,
        },
        "rosey_firewall_allowed_tcp_ports": [OPEN_PORT],
        "rosey_health_wait": 20,
        "rosey_timings_file": str(timings),
    }


def write_inventory(path: Path, hosts: list[Host], group_vars: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    bots = {h.name: {"ansible_host": h.addr, "rosey_account_name": f"rosey-{h.name}"} for h in hosts}
    path.write_text(json.dumps({"rosey_bots": {"hosts": bots, "vars": group_vars}}, indent=2))
    return path


def serve_repository(lab: Lab, repo: Host, served_root: str) -> None:
    """Debian's nginx on the repository host with the project's site config, serving ``served_root``."""
    site = (ROOT / "repo/nginx/rosey-apt.conf").read_text()
    assert "listen 127.0.0.1:8080;" in site and "root /srv/rosey-apt;" in site
    site = site.replace("listen 127.0.0.1:8080;", "listen 80;")
    site = site.replace("root /srv/rosey-apt;", f"root {served_root};")
    repo.container.write("/etc/nginx/sites-enabled/rosey-apt", site)
    repo.container.run("rm -f /etc/nginx/sites-enabled/default && nginx -t -q && systemctl restart nginx")


def wait_for_in_release(lab: Lab, repo: Host, suite: str) -> None:
    in_release = f"http://{repo.addr}/dists/{suite}/InRelease"
    fetch = f"import urllib.request as u; u.urlopen({in_release!r}, timeout=2).read()"
    wait_until(lambda: lab.in_hub("python3", "-c", fetch, check=False).returncode == 0, 30, "nginx serving InRelease")

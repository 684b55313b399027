"""A small fleet for the Ansible tests: network namespaces, containers, SSH and ansible-playbook.

Layout (all private to the test, nothing on the build machine's own network):

    netns <hub>   bridge br0 10.231.0.1/24: ansible-playbook and the fake CyTube server run here
      |-- netns <hub>-repo  10.231.0.2   container: nginx serving the published apt tree
      |-- netns <hub>-h1    10.231.0.11  container: sshd, systemd, rosey-bot
      |-- netns <hub>-h2    10.231.0.12  ...

Every namespace and process created here is removed by ``Lab.close``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.container import Container
from tests.support.paths import ROOT

SUBNET = "10.231.0"
HUB_ADDR = f"{SUBNET}.1"
VENV_BIN = ROOT / ".venv" / "bin"

# The suite tests/support/releases.publish publishes into (the test servers' channel).
SUITE = "testing"
OPEN_PORT = 9100  # rosey_firewall_allowed_tcp_ports in the test inventory

# Recognisable secrets: a dry run's output is searched for them. The account
# password reaches Ansible the production way, through ROSEY_ACCOUNT_PASSWORD.
ACCOUNT_PASSWORD = "acct-Secr3t-Q7wz"
CHANNEL_PASSWORD = "chan-Secr3t-K4vx"


def sh(*argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


@dataclass
class Host:
    name: str
    addr: str
    netns: str
    container: Container | None = None


@dataclass
class Lab:
    """Namespaces on a bridge; ``close`` ends what was started in them (Ansible's SSH masters, the
    booted containers, spawned processes) and removes them."""

    workdir: Path
    tag: str = field(default_factory=lambda: f"rfl{os.getpid() % 100000}")
    netns: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    ansibles: list[Ansible] = field(default_factory=list)

    @property
    def hub(self) -> str:
        return f"{self.tag}-hub"

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def create_hub(self) -> None:
        self._add_netns(self.hub)
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "addr", "add", f"{HUB_ADDR}/24", "dev", "br0")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")

    def add_host(self, name: str, last_octet: int) -> Host:
        """A namespace with eth0 = SUBNET.last_octet, cabled to the hub's bridge."""
        ns = f"{self.tag}-{name}"
        self._add_netns(ns)
        port = f"v-{name}"[:15]
        sh("ip", "-n", self.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "-n", self.hub, "link", "set", port, "master", "br0", "up")
        addr = f"{SUBNET}.{last_octet}"
        sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", HUB_ADDR)
        return Host(name, addr, ns)

    def _add_netns(self, ns: str) -> None:
        sh("ip", "netns", "del", ns, check=False)  # left over from a killed run with the same pid
        sh("ip", "netns", "add", ns)
        self.netns.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")

    def boot(self, host: Host, rootfs: Path, binds: dict[str, str] | None = None, timeout: float = 60) -> Container:
        c = Container(
            rootfs,
            f"{self.tag}-{host.name}",
            binds=binds,
            private_network=False,
            # The namespace is the container's own: let it manage it (nftables), as --private-network would.
            extra_args=(f"--network-namespace-path=/run/netns/{host.netns}", "--capability=CAP_NET_ADMIN"),
        )
        host.container = c
        self.containers.append(c)
        c.start(timeout=timeout)
        return c

    def spawn(self, argv: list[str], **kwargs) -> subprocess.Popen:
        """A long-running process in the hub namespace, stopped by ``close``."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.hub, *argv], start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def in_hub(self, *argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.hub, *argv, check=check, timeout=timeout)

    def tcp_open(self, addr: str, port: int, timeout: float = 2.0) -> bool:
        """Whether a TCP connect from the hub to addr:port succeeds within ``timeout``."""
        code = f"import socket; socket.create_connection(({addr!r}, {port}), timeout={timeout}).close()"
        return self.in_hub("python3", "-c", code, check=False, timeout=timeout + 10).returncode == 0

    def close(self) -> None:
        for ansible in self.ansibles:
            ansible.close()
        for c in reversed(self.containers):
            c.stop()
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        for ns in reversed(self.netns):
            # Anything still inside (only ever started by this test) goes with its namespace.
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", ns, check=False)


class Ansible:
    """ansible-playbook from the dev venv, run in the hub namespace over real SSH with a test key."""

    def __init__(self, lab: Lab, inventory: Path, key: Path, known_hosts: Path, env: dict[str, str] | None = None):
        self.lab, self.inventory = lab, inventory
        lab.ansibles.append(self)  # closed with the lab
        # A short path: a unix socket path has at most 108 bytes, and ssh appends 17 to %C's 40.
        self.control_dir = Path(tempfile.mkdtemp(prefix="rfl-ssh-", dir="/tmp"))
        self.log_dir = lab.workdir / "ansible-logs"
        self.log_dir.mkdir(exist_ok=True)
        self.runs = 0
        self.env = {
            "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(lab.workdir),
            "LANG": "C.UTF-8",
            "ANSIBLE_CONFIG": str(ROOT / "deploy" / "ansible.cfg"),
            "ANSIBLE_HOME": str(lab.workdir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(lab.workdir / "ansible-tmp"),
            "ANSIBLE_PRIVATE_KEY_FILE": str(key),
            "ANSIBLE_REMOTE_USER": "root",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_SSH_ARGS": " ".join(
                [
                    "-o ControlMaster=auto",
                    "-o ControlPersist=300s",
                    f"-o ControlPath={self.control_dir}/%C",
                    f"-o UserKnownHostsFile={known_hosts}",
                    "-o StrictHostKeyChecking=yes",
                    "-o ConnectTimeout=10",
                ]
            ),
            **(env or {}),
        }

    def playbook(
        self, name: str, *extra: str, check: bool = True, timeout: float = 600, env: dict[str, str | None] | None = None
    ) -> subprocess.CompletedProcess:
        """Run a playbook; ``env`` overrides the environment (a value of None removes the variable)."""
        self.runs += 1
        run_env = {k: v for k, v in {**self.env, **(env or {})}.items() if v is not None}
        argv = [
            "ip",
            "netns",
            "exec",
            self.lab.hub,
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(self.inventory),
            str(ROOT / "deploy" / "playbooks" / name),
            *extra,
        ]
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, env=run_env, timeout=timeout)
        took = time.monotonic() - start
        print(f"fleet: ansible-playbook {name} {shlex.join(extra)} took {took:.1f} s (exit {proc.returncode})")
        log = self.log_dir / f"{self.runs:02d}-{name}.log"
        log.write_text(f"$ {shlex.join(argv)}\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
        if check and proc.returncode != 0:
            raise AssertionError(
                f"ansible-playbook {name} exited {proc.returncode} (log {log}):\n"
                f"{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
            )
        return proc

    def close(self) -> None:
        """End the SSH control masters (ControlPersist) this run left behind."""
        for sock in self.control_dir.iterdir():
            self.lab.in_hub("ssh", "-o", f"ControlPath={sock}", "-O", "exit", "unused", check=False, timeout=20)
        shutil.rmtree(self.control_dir, ignore_errors=True)


def read_timings(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

"""A private network for the documentation tests: a fake CyTube server and the apt repository over HTTP.

One network namespace (loopback only) holds:
  - the project's fake CyTube server (tests/fleet/cytube_serve.py, real websockets) on 127.0.0.1:<port>;
  - the published apt tree served over HTTP by Python's http.server on 127.0.0.1:8080;
  - the booted container (systemd-nspawn --network-namespace-path), so the bot's health
    endpoint (8000) and dashboard (5000) never touch the build machine's own ports.
Everything started here is stopped, and the namespace removed, on exit (also on failure).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.netns import Netns, fake_cytube, loopback_netns, stop

REPO_PORT = 8080


@dataclass
class Net(Netns):
    cytube_url: str
    channel: str
    repo_url: str
    http_log: Path

    def exec(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*argv), capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def private_net(tree: Path, workdir: Path, channel: str = "docs", timeout: float = 30) -> Iterator[Net]:
    with loopback_netns("rdoc") as ns, fake_cytube(ns, channel, timeout=timeout) as fake:
        http_log = workdir / "http.log"
        with open(http_log, "w") as log:  # the server keeps its own copy of the descriptor
            http = subprocess.Popen(
                ns.argv("/usr/bin/python3", "-m", "http.server", str(REPO_PORT))
                + ["--bind", "127.0.0.1", "--directory", str(tree)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            net = Net(ns.name, fake.url, channel, f"http://127.0.0.1:{REPO_PORT}", http_log)
            deadline = time.monotonic() + timeout
            probe = ["curl", "-fsS", "-o", "/dev/null", f"{net.repo_url}/dists/bookworm/InRelease"]
            while net.exec(*probe).returncode != 0:
                assert http.poll() is None, f"http.server exited: {http_log.read_text()}"
                assert time.monotonic() < deadline, f"the repository was not served within {timeout} s"
                time.sleep(0.1)
            yield net
        finally:
            stop(http)

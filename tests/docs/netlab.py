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
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT

REPO_PORT = 8080


@dataclass
class Net:
    name: str
    cytube_url: str
    channel: str
    repo_url: str
    http_log: Path

    @property
    def nspawn_args(self) -> tuple[str, ...]:
        return (f"--network-namespace-path=/run/netns/{self.name}",)

    def exec(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv], capture_output=True, text=True, timeout=timeout
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def private_net(tree: Path, workdir: Path, channel: str = "docs", timeout: float = 30) -> Iterator[Net]:
    name = f"rdoc{os.getpid() % 100000}-{time.monotonic_ns() % 100000}"
    procs: list[subprocess.Popen] = []
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
        fake = subprocess.Popen(
            ["ip", "netns", "exec", name, str(ROOT / ".venv/bin/python"), str(ROOT / "tests/fleet/cytube_serve.py")]
            + ["--host", "127.0.0.1", "--channel", channel],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(fake)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in fake.stdout], daemon=True).start()
        try:
            first = lines.get(timeout=timeout).strip()
        except queue.Empty:
            raise AssertionError(f"the fake CyTube server did not start within {timeout} s") from None
        assert first.startswith("listening http://"), f"fake CyTube: {first!r}"
        cytube_url = first.split()[1]

        http_log = workdir / "http.log"
        with open(http_log, "w") as log:  # the server keeps its own copy of the descriptor
            http = subprocess.Popen(
                ["ip", "netns", "exec", name, "/usr/bin/python3", "-m", "http.server", str(REPO_PORT)]
                + ["--bind", "127.0.0.1", "--directory", str(tree)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        procs.append(http)
        net = Net(name, cytube_url, channel, f"http://127.0.0.1:{REPO_PORT}", http_log)
        deadline = time.monotonic() + timeout
        probe = ["curl", "-fsS", "-o", "/dev/null", f"{net.repo_url}/dists/bookworm/InRelease"]
        while net.exec(*probe).returncode != 0:
            assert http.poll() is None, f"http.server exited: {http_log.read_text()}"
            assert time.monotonic() < deadline, f"the repository was not served within {timeout} s"
            time.sleep(0.1)
        yield net
    finally:
        for proc in reversed(procs):
            _stop(proc)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)

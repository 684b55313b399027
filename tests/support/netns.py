"""A private loopback-only network namespace, and the fake CyTube server started inside one.

Tests that boot a container with ``--network-namespace-path`` share such a namespace with their fake
servers, so the bot's ports (8000, 5000) never touch the build machine's own. Everything started here
is stopped, and the namespace removed, on exit (also on failure).
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

from .paths import ROOT

# Prints "listening http://HOST:PORT", then a line per login (tests/fleet/cytube_serve.py).
CYTUBE_SERVE = ROOT / "tests/fleet/cytube_serve.py"


@dataclass
class Netns:
    name: str

    @property
    def nspawn_args(self) -> tuple[str, ...]:
        """What makes a systemd-nspawn container share this namespace."""
        return (f"--network-namespace-path=/run/netns/{self.name}",)

    def argv(self, *argv: str) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]


@contextlib.contextmanager
def loopback_netns(prefix: str) -> Iterator[Netns]:
    """A fresh namespace whose only interface, lo, is up; ``prefix`` says whose it is (in `ip netns`)."""
    name = f"{prefix}{os.getpid() % 100000}-{time.monotonic_ns() % 100000}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
        yield Netns(name)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@dataclass
class FakeServer:
    url: str
    proc: subprocess.Popen
    lines: queue.Queue[str]  # what it printed after its "listening" line, as it prints it


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def fake_cytube(
    netns: Netns, channel: str, *args: str, script: Path = CYTUBE_SERVE, timeout: float = 30
) -> Iterator[FakeServer]:
    """``script`` (the fake CyTube server, or a variant with the same command line) on 127.0.0.1 in ``netns``."""
    argv = [str(ROOT / ".venv/bin/python"), str(script), "--host", "127.0.0.1", "--channel", channel, *args]
    proc = subprocess.Popen(netns.argv(*argv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        try:
            first = lines.get(timeout=timeout).strip()
        except queue.Empty:
            raise AssertionError(f"the fake CyTube server ({script.name}) did not start within {timeout} s") from None
        assert first.startswith("listening http://"), f"fake CyTube: {first!r}"
        yield FakeServer(first.split()[1], proc, lines)
    finally:
        stop(proc)

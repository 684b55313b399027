"""For the debconf tests: two fake CyTube servers in a private network namespace, a container inside it,
and a pseudo-terminal to answer debconf's questions the way a person at a terminal does.

The namespace (loopback only) holds:
  - server A, channel "first", with the registered account ACCOUNT (password PASSWORD);
  - server B, channel "second";
  - the booted container (``--network-namespace-path``), so the bot's health port is its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import queue
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.container import CONTAINER_ENV, Container
from tests.support.netns import FakeServer, Netns, fake_cytube, loopback_netns

ACCOUNT, PASSWORD = "rosey", "pw-Zq81-never-stored"


@dataclass
class Fake:
    server: FakeServer
    channel: str
    logins: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def wait_login(self, what: str, timeout: float = 60) -> None:
        """Until the server printed ``login <what>`` (e.g. "rosey registered")."""
        deadline = time.monotonic() + timeout
        while f"login {what}" not in self.logins:
            left = deadline - time.monotonic()
            assert left > 0, f"no 'login {what}' at {self.url} within {timeout}s; saw {self.logins}"
            with contextlib.suppress(queue.Empty):
                self.logins.append(self.server.lines.get(timeout=min(left, 1)).strip())


@dataclass
class Lab(Netns):
    a: Fake
    b: Fake


@contextlib.contextmanager
def lab(prefix: str) -> Iterator[Lab]:
    with (
        loopback_netns(prefix) as ns,
        fake_cytube(ns, "first", "--account", f"{ACCOUNT}:{PASSWORD}") as a,
        fake_cytube(ns, "second") as b,
    ):
        yield Lab(ns.name, Fake(a, "first"), Fake(b, "second"))


class Terminal:
    """A command in the container with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, c: Container, command: str, env: dict[str, str]):
        full_env = {**CONTAINER_ENV, "TERM": "dumb", **env}
        argv = ["nsenter", "-t", str(c.pid), "-a", "env", "-i", *(f"{k}={v}" for k, v in full_env.items())]
        self.master, slave = pty.openpty()
        # A wide terminal: debconf wraps its text to the terminal's width.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        self.proc = subprocess.Popen(
            [*argv, "sh", "-c", command], stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.text = ""  # everything seen so far
        self.pos = 0  # where the next expect() starts looking

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the other side closed
            return False
        if not data:
            return False
        self.text += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def expect(self, pattern: str, timeout: float = 300) -> re.Match:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 1)):
                if not (m := rx.search(self.text, self.pos)):
                    raise AssertionError(f"never saw {pattern!r}; the terminal showed:\n{self.text[-3000:]}")
                self.pos = m.end()
                return m

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 600) -> int:
        """Read until the command exits and its output is drained; its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(1):
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        rc = self.proc.wait(timeout=max(1, deadline - time.monotonic()))
        os.close(self.master)
        return rc

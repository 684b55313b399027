"""A fake CyTube server that reports when each user enters and leaves the channel, for upgrade-gap measurements.

Run inside a network namespace (the container shares it):

    python tests/e2e/channel_presence.py --host 127.0.0.1 --channel e2e

prints ``listening http://HOST:PORT``, then ``join NAME T`` / ``leave NAME T``
lines, T being CLOCK_MONOTONIC seconds (only differences matter). The
``Presence`` context manager runs it in a fresh namespace and collects them.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout: it also runs as a script

from tests.support.netns import Netns, fake_cytube, loopback_netns
from tests.support.paths import ROOT
from tests.support.waiting import wait_until


@dataclass
class Presence(Netns):
    url: str
    events: list[tuple[str, str, float]] = field(default_factory=list)  # (join|leave, name, t)

    def since(self, n: int) -> list[tuple[str, str, float]]:
        return list(self.events[n:])

    def wait_for(self, kind: str, name: str, after: int = 0, timeout: float = 60) -> float:
        def seen():
            return next((t for k, who, t in self.events[after:] if (k, who) == (kind, name)), None)

        try:
            return wait_until(seen, timeout, f"'{kind} {name}' seen by the fake CyTube server", interval=0.1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {self.events}") from None


@contextlib.contextmanager
def presence_server(channel: str, timeout: float = 30) -> Iterator[Presence]:
    """A loopback-only network namespace holding the server; removed on exit."""
    with loopback_netns("rpres") as ns, fake_cytube(ns, channel, script=Path(__file__), timeout=timeout) as fake:
        presence = Presence(ns.name, fake.url)

        def collect():
            while True:
                kind, name, t = fake.lines.get().split()
                presence.events.append((kind, name, float(t)))

        threading.Thread(target=collect, daemon=True).start()
        yield presence


def main() -> None:
    # tests/ too: the fake is imported as the top-level fake_cytube, as everywhere.
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from fake_cytube import Behaviour, FakeCyTube

    class PresenceFake(FakeCyTube):
        """Prints the moment a connection is in the channel under a name, and the moment it leaves."""

        def __init__(self, *args):
            super().__init__(*args)
            self.present: set[int] = set()

        def _report(self, conn) -> None:
            if conn.joined and conn.name and conn.id not in self.present:
                self.present.add(conn.id)
                print(f"join {conn.name} {time.monotonic():.6f}", flush=True)

        async def _join(self, conn) -> None:
            await super()._join(conn)
            self._report(conn)

        async def _login(self, conn, payload) -> None:
            await super()._login(conn, payload)
            self._report(conn)

        async def _broadcast(self, event, payload) -> None:
            if event == "userLeave":
                print(f"leave {payload['name']} {time.monotonic():.6f}", flush=True)
            await super()._broadcast(event, payload)

    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--channel", required=True)
    args = p.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    behaviour = Behaviour(channel=args.channel, connect_limit=False)
    with PresenceFake(behaviour, args.host, 0) as fake:
        print(f"listening {fake.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()

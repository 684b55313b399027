"""Run the fake CyTube server on a given address (the fleet tests start it inside their network namespace).

    python -m tests.fleet.cytube_serve --host 10.231.0.1 --channel fleet [--channel-password PW] \
        --account NAME:PASSWORD ...

Prints ``listening http://HOST:PORT`` once it accepts connections, then a line
``login NAME registered|guest`` per successful login, until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fake_cytube import Behaviour, FakeCyTube


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--channel", default="fleet")
    p.add_argument("--channel-password", default=None)
    p.add_argument("--account", action="append", default=[], metavar="NAME:PASSWORD")
    args = p.parse_args()
    accounts = {}
    for spec in args.account:
        name, password = spec.split(":", 1)
        accounts[name] = (password, 2)
    # Several hosts connect and reconnect during a rollout: no per-server connect bucket here.
    behaviour = Behaviour(
        channel=args.channel, channel_password=args.channel_password, accounts=accounts, connect_limit=False
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeCyTube(behaviour, args.host, args.port) as fake:
        print(f"listening {fake.url}", flush=True)
        seen = 0
        while not stop.wait(0.1):
            logins = list(fake.logins)
            for name, guest in logins[seen:]:
                print(f"login {name} {'guest' if guest else 'registered'}", flush=True)
            seen = len(logins)


if __name__ == "__main__":
    main()

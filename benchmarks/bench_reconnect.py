"""Time from a 1 s fake-server restart until the bot is back in the channel (goal <= 5 s).

Default reconnect settings (reconnect_min_delay 1 s, full jitter), so the figure is what an
operator gets. Measured from the moment the server comes back and from the moment it went down.
"""

import statistics
import tempfile
import time
from pathlib import Path

from _fakebot import health_code, start_bot, start_fake, stop_bot, wait_healthy

ROUNDS = 5


def main() -> None:
    fake = start_fake()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_bot(fake, Path(tmp))
        try:
            since_down, since_up = [], []
            for _ in range(ROUNDS):
                down_at = time.monotonic()
                fake.restart(down=1.0)
                up_at = time.monotonic()
                if health_code(port) == 200:  # not noticed yet: wait for the 503 first
                    wait_healthy(port, 10, code=503)
                wait_healthy(port, 30)
                back = time.monotonic()
                since_down.append(back - down_at)
                since_up.append(back - up_at)
                time.sleep(11)  # let the server's connect bucket (1 per 10 s) refill between rounds
        finally:
            stop_bot(proc)
            fake.stop()
    print(f"bench_reconnect: 1 s server restart -> back in channel, {ROUNDS} rounds")
    print(
        f"  from restart start: median {statistics.median(since_down):.2f} s, max {max(since_down):.2f} s (goal <= 5 s)"
    )
    print(f"  from server back up: median {statistics.median(since_up):.2f} s, max {max(since_up):.2f} s")


if __name__ == "__main__":
    main()

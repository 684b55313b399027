"""Steady-state RSS of the `rosey-bot run` process connected to the fake server (goal <= 60 MB)."""

import tempfile
import time
from pathlib import Path

from _fakebot import start_bot, start_fake, stop_bot


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    fake = start_fake(ping_interval_ms=1000, ping_timeout_ms=5000)
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_bot(fake, Path(tmp))
        try:
            for i in range(20):
                fake.add_user(f"user{i}", i % 3)
            samples = []
            for second in range(20):  # some chat traffic, heartbeats, commands
                for i in range(20):
                    fake.user_says(f"user{i}", f"message {second}-{i}" + (" !ping" if i == 0 else ""))
                fake.user_says("user1", "!ping")
                time.sleep(1)
                samples.append(rss_kb(proc.pid))
        finally:
            stop_bot(proc)
            fake.stop()
    steady = samples[len(samples) // 2 :]
    print(f"bench_rss: bot process RSS after 20 s connected with chat traffic ({len(fake.chats)} bot lines)")
    print(f"  steady state {max(steady) / 1024:.1f} MB max, {min(steady) / 1024:.1f} MB min (goal <= 60 MB)")


if __name__ == "__main__":
    main()

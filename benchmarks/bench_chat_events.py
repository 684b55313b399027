"""Chat events processed per second, database writes included (goal: >= 5,000/s).

Feeds `42["chatMsg",{...}]` text frames through the path the bot uses on a live
connection: Session.receive (Engine.IO/socket.io parsing) -> CytubeClient's event
dispatch -> ChannelBot -> Database.record_chat, flushing once per second of wall
time as the bot's runner does. The database is a real SQLite file on disk.
Also measures the storage layer alone (Database.record_chat + the same flushes).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rosey_bot.storage import Database

GOAL = 5_000
FLUSH_INTERVAL = 1.0
T0 = 1_700_000_000_000


def chat_payloads(n: int) -> Iterator[dict]:
    for i in range(n):
        text = f"message {i}: " + "the quick brown fox jumps over the lazy dog " * (1 + i % 4) + "ünï ✓"
        yield {"username": f"viewer{i % 60}", "msg": text, "meta": {}, "time": T0 + i}


def bot_path(db: Database) -> tuple[Callable[[str], None], str] | None:
    """A feed(frame) function over the bot's own classes, or None when they are not there."""
    try:
        from rosey_bot.bot.channel import ChannelBot
        from rosey_bot.bot.client import CytubeClient
        from rosey_bot.bot.outbox import Outbox
        from rosey_bot.config import parse
        from rosey_bot.protocol import Session
        from rosey_bot.state import BotState

        cfg = parse({"server": {"url": "http://127.0.0.1:1", "channel": "bench"}, "account": {"name": "rosey"}})
        state = BotState("bench", "bench")
        outbox = Outbox()
        client = CytubeClient(cfg, state, ChannelBot(state, db, outbox, cfg.bot.command_prefix), outbox)
        session = Session(channel="bench", name="rosey")
        handshake = [
            '0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":120000,"maxPayload":1048576}',
            '40{"sid":"n"}',
            '42["userlist",[{"name":"rosey","rank":1}]]',
            '42["login",{"success":true,"name":"rosey"}]',
        ]
        for frame in handshake:
            for event in session.receive(frame, time.monotonic()):
                client._dispatch(event, session)
        assert session.can_chat, "handshake did not reach READY"

        def feed(frame: str) -> None:
            for event in session.receive(frame, time.monotonic()):
                client._dispatch(event, session)

        return feed, "frames -> Session.receive -> CytubeClient dispatch -> ChannelBot -> Database"
    except (ImportError, AttributeError, TypeError, AssertionError) as exc:
        print(f"(bot classes not usable here: {exc}; measuring the storage layer only)")
        return None


def measure(feed: Callable[[object], None], items: list, db: Database) -> float:
    start = last_flush = time.perf_counter()
    for item in items:
        feed(item)
        now = time.perf_counter()
        if now - last_flush >= FLUSH_INTERVAL:
            db.flush()
            last_flush = now
    db.flush()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--dir", help="where to put the database (default: a temporary directory)")
    args = ap.parse_args()
    payloads = list(chat_payloads(args.events))
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        results = []
        with Database(Path(d) / "bot.db") as db:
            path = bot_path(db)
            if path is not None:
                feed, method = path
                frames = ["42" + json.dumps(["chatMsg", p], ensure_ascii=False) for p in payloads]
                results.append((method, measure(feed, frames, db)))
                assert db.summary()["tables"]["chat_messages"] == args.events, "the bot path lost events"
        with Database(Path(d) / "storage.db") as db:
            elapsed = measure(lambda p: db.record_chat(p["username"], p["msg"], p["time"]), payloads, db)
            results.append(("Database.record_chat (+ user stats upsert) only", elapsed))
            assert db.summary()["tables"]["chat_messages"] == args.events
    print(f"bench_chat_events: {args.events:,} chatMsg events, SQLite file on disk, flush every {FLUSH_INTERVAL:.0f} s")
    for method, elapsed in results:
        rate = args.events / elapsed
        verdict = "meets" if rate >= GOAL else "BELOW"
        print(f"  {rate:>10,.0f} events/s  ({elapsed:.2f} s)  {verdict} goal >= {GOAL:,}/s  via {method}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

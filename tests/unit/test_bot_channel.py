"""Channel behaviour against a real Database on a temporary file: what the bot stores is read back from sqlite.

A storage call the channel makes under a name the Database does not have fails here (AttributeError),
and so does a row written with the wrong values.
"""

import sqlite3

import pytest

from rosey_bot.bot.channel import ChannelBot
from rosey_bot.protocol import ProtocolError
from rosey_bot.state import BotState
from rosey_bot.storage import Database
from rosey_bot.storage.schema import SCHEMA_VERSION


class Outbox:
    def __init__(self):
        self.said, self.pms = [], []

    def say(self, text):
        self.said.append(text)

    def pm(self, to, text):
        self.pms.append((to, text))


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path):
    with Database(tmp_path / "rosey.db") as database:
        yield database


@pytest.fixture
def clock():
    return Clock(1000.0)


@pytest.fixture
def bot(db, clock):
    b = ChannelBot(BotState("1.0", "chan"), db, Outbox(), "!", clock=clock)
    b.handle("userlist", [{"name": "bot", "rank": 0}, {"name": "mod", "rank": 3}, {"name": "guest", "rank": 0}])
    b.became_ready("bot")
    return b


def stored(db: Database, sql: str) -> list[tuple]:
    """Rows as another reader sees them once the bot's writes are committed."""
    assert db.flush().ok
    conn = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_user_tracking_and_count(bot, db, clock):
    assert bot.state.snapshot().user_count == 3
    clock.now = 1005.0
    bot.handle("addUser", {"name": "new", "rank": 1})
    bot.handle("userLeave", {"name": "guest"})
    assert sorted(bot.users) == ["bot", "mod", "new"]
    bot.handle("usercount", 12)
    bot.handle("addUser", {"name": "other", "rank": 1})
    assert bot.state.snapshot().user_count == 12  # the server's count wins once it is known
    users = stored(db, "SELECT name, rank, first_seen, last_seen FROM users ORDER BY name")
    assert users == [
        ("bot", 0, 1_000_000, 1_000_000),
        ("guest", 0, 1_000_000, 1_005_000),  # its leaving is its last sighting
        ("mod", 3, 1_000_000, 1_000_000),
        ("new", 1, 1_005_000, 1_005_000),
        ("other", 1, 1_005_000, 1_005_000),
    ]
    assert stored(db, "SELECT time_ms, count FROM user_counts") == [(1_005_000, 12)]


def test_commands_from_others_only_and_every_line_stored(bot, db):
    bot.handle("chatMsg", {"username": "guest", "msg": "!ping", "time": 1})
    bot.handle("chatMsg", {"username": "bot", "msg": "!ping", "time": 2})
    bot.handle("chatMsg", {"username": "[server]", "msg": "!ping", "time": 3})
    assert bot.outbox.said == ["pong"]
    assert bot.state.snapshot().requests_handled == 1
    lines = stored(db, "SELECT time_ms, username, msg FROM chat_messages ORDER BY id")
    assert lines == [(1, "guest", "!ping"), (2, "bot", "!ping"), (3, "[server]", "!ping")]
    assert db.user_stats("guest")["message_count"] == 1


def test_pm_commands_need_rank_2(bot, db):
    bot.handle("pm", {"username": "guest", "to": "bot", "msg": "say hi", "time": 1})
    bot.handle("pm", {"username": "mod", "to": "bot", "msg": "say hi", "time": 2})
    bot.handle("pm", {"username": "mod", "to": "bot", "msg": "stats", "time": 3})
    assert bot.outbox.pms[0][0] == "guest" and "moderators" in bot.outbox.pms[0][1]
    assert bot.outbox.pms[1] == ("mod", "ok") and bot.outbox.said == ["hi"]
    # stats reads the database: three users, the two PMs before it (each PM is answered, then stored).
    to, stats = bot.outbox.pms[2]
    assert to == "mod" and stats.startswith(f"schema v{SCHEMA_VERSION}: ")
    assert "private_messages 2" in stats and "users 3" in stats and "chat_messages 0" in stats
    assert bot.state.snapshot().requests_handled == 3
    pms = stored(db, "SELECT time_ms, username, recipient, msg FROM private_messages ORDER BY id")
    assert pms == [(1, "guest", "bot", "say hi"), (2, "mod", "bot", "say hi"), (3, "mod", "bot", "stats")]


def test_media_is_logged(bot, db, clock):
    bot.handle("changeMedia", {"id": "abc", "title": "A song", "type": "yt", "seconds": 215})
    rows = stored(db, "SELECT time_ms, media_id, title, media_type, duration_s FROM media_log")
    assert rows == [(1_000_000, "abc", "A song", "yt", 215)]


def test_error_msg_counts_an_error(bot):
    bot.handle("errorMsg", {"msg": "nope"})
    assert bot.state.snapshot().error_count == 1


def test_bad_payloads_raise_protocol_error(bot, db):
    for name, payload in (("chatMsg", "x"), ("pm", {"username": 1}), ("addUser", []), ("usercount", "9")):
        with pytest.raises(ProtocolError):
            bot.handle(name, payload)
    assert stored(db, "SELECT (SELECT count(*) FROM chat_messages), (SELECT count(*) FROM user_counts)") == [(0, 0)]


def test_unknown_events_are_ignored(bot):
    bot.handle("setAFK", {"name": "x"})
    bot.handle("__class__", None)
    bot.handle("handle", None)
    assert bot.outbox.said == []

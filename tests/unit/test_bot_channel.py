"""Channel behaviour with a tiny in-test storage stand-in (the integration tests use the real Database)."""

import pytest

from rosey_bot.bot.channel import ChannelBot
from rosey_bot.protocol import ProtocolError
from rosey_bot.state import BotState


class Store:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def record(*args):
            self.calls.append((name, *args))
            if name == "summary":
                return {"schema_version": 1, "tables": {"users": 1}}
            return None

        return record


class Outbox:
    def __init__(self):
        self.said, self.pms = [], []

    def say(self, text):
        self.said.append(text)

    def pm(self, to, text):
        self.pms.append((to, text))


@pytest.fixture
def bot():
    state = BotState("1.0", "chan")
    b = ChannelBot(state, Store(), Outbox(), "!", clock=lambda: 1000.0)
    b.handle("userlist", [{"name": "bot", "rank": 0}, {"name": "mod", "rank": 3}, {"name": "guest", "rank": 0}])
    b.became_ready("bot")
    return b


def test_user_tracking_and_count(bot):
    assert bot.state.snapshot().user_count == 3
    bot.handle("addUser", {"name": "new", "rank": 1})
    bot.handle("userLeave", {"name": "guest"})
    assert sorted(bot.users) == ["bot", "mod", "new"]
    bot.handle("usercount", 12)
    bot.handle("addUser", {"name": "other", "rank": 1})
    assert bot.state.snapshot().user_count == 12  # the server's count wins once it is known
    assert ("user_left", "guest", 1_000_000) in bot.db.calls


def test_commands_from_others_only(bot):
    bot.handle("chatMsg", {"username": "guest", "msg": "!ping", "time": 1})
    bot.handle("chatMsg", {"username": "bot", "msg": "!ping", "time": 2})
    bot.handle("chatMsg", {"username": "[server]", "msg": "!ping", "time": 3})
    assert bot.outbox.said == ["pong"]
    assert bot.state.snapshot().requests_handled == 1


def test_pm_commands_need_rank_2(bot):
    bot.handle("pm", {"username": "guest", "to": "bot", "msg": "say hi", "time": 1})
    bot.handle("pm", {"username": "mod", "to": "bot", "msg": "say hi", "time": 1})
    bot.handle("pm", {"username": "mod", "to": "bot", "msg": "stats", "time": 1})
    assert bot.outbox.pms[0][0] == "guest" and "moderators" in bot.outbox.pms[0][1]
    assert bot.outbox.pms[1] == ("mod", "ok") and bot.outbox.said == ["hi"]
    assert bot.outbox.pms[2] == ("mod", "schema v1: users 1")
    assert bot.state.snapshot().requests_handled == 3


def test_error_msg_counts_an_error(bot):
    bot.handle("errorMsg", {"msg": "nope"})
    assert bot.state.snapshot().error_count == 1


def test_bad_payloads_raise_protocol_error(bot):
    for name, payload in (("chatMsg", "x"), ("pm", {"username": 1}), ("addUser", []), ("usercount", "9")):
        with pytest.raises(ProtocolError):
            bot.handle(name, payload)


def test_unknown_events_are_ignored(bot):
    bot.handle("setAFK", {"name": "x"})
    bot.handle("__class__", None)
    bot.handle("handle", None)
    assert bot.outbox.said == []

"""Malformed frames and payloads sent to a live bot: it never crashes and its health server keeps answering."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rosey_bot import health_contract
from tests.support.chatbot import stored_chat
from tests.support.waiting import wait_until

EVENTS = ["chatMsg", "pm", "userlist", "addUser", "userLeave", "usercount", "setUserRank", "changeMedia",
          "errorMsg", "cooldown", "channelOpts", "rank", "login", "needPassword", "queue", "noflood"]  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=6,
)
shaped = st.fixed_dictionaries(
    {}, optional={k: json_values for k in ("username", "msg", "time", "to", "name", "rank", "id", "seconds")}
)
frames = st.one_of(
    st.builds(lambda n, p: "42" + json.dumps([n, p]), st.sampled_from(EVENTS), json_values | shaped),
    st.builds(lambda s: "42" + s, st.text(max_size=30)),
    st.text(max_size=30).filter(lambda s: not s.startswith(("1", "41", "44"))),  # those only disconnect
    st.binary(max_size=16),
)


def test_live_bot_survives_malformed_input(make_fake, make_bot):
    fake = make_fake(connect_limit=False)
    bot = make_bot(fake, **{"bot.connect_interval": 0.05, "bot.reconnect_max_delay": 0.1})
    bot.wait_connected()

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(frames)
    def feed(frame):
        fake.send_raw(frame)
        status, body = bot.health()
        assert status in (200, 503) and set(body) == {*health_contract.FIELDS, health_contract.STORAGE}

    feed()
    assert bot.thread.is_alive() and bot.crashed is None
    assert bot.health()[1]["error_count"] > 0  # bad payloads were counted
    bot.wait_connected(timeout=10)
    # And it still does its job: a fresh user's command is answered.
    fake.add_user("zed", 0)
    fake.behaviour.chat_burst = 1000
    before = len(fake.chats)
    fake.user_says("zed", "!ping")
    wait_until(lambda: ("rosey", "pong") in fake.chats[before:] or None, timeout=15, what="pong after fuzzing")
    # and stores what it saw in its real database.
    wait_until(lambda: stored_chat(bot.config.database.path, "zed") == ["!ping"], what="zed's line stored")

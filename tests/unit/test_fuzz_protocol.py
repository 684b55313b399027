"""Property tests: any input to the protocol core raises ProtocolError or nothing, never anything else."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rosey_bot.bot.channel import ChannelBot
from rosey_bot.protocol import ProtocolError, Session, parse_eio, parse_sio, parse_socketconfig, payloads
from rosey_bot.state import BotState
from rosey_bot.storage import Database

EVENTS = [
    "chatMsg", "pm", "userlist", "addUser", "userLeave", "usercount", "setUserRank", "setAFK", "changeMedia",
    "setCurrent", "queue", "delete", "playlist", "errorMsg", "kick", "cooldown", "noflood", "spamFiltered",
    "needPassword", "channelNotRegistered", "login", "rank", "channelOpts",
]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=6,
)
# Payloads shaped like the real ones, with wrong types and missing keys mixed in.
KEYS = "username msg time to name rank id title seconds type success error reason chat_antiflood burst sustained"
keys = st.sampled_from([*KEYS.split(), "chat_antiflood_params"])
shaped = st.dictionaries(keys, json_values, max_size=5)
payload_values = json_values | shaped | st.lists(shaped, max_size=3)

# Payloads the channel accepts, with hostile values: these reach the storage calls.
texts = st.text(max_size=40)
numbers = st.integers() | st.floats()
user_payload = st.fixed_dictionaries({"name": st.text(min_size=1, max_size=20)}, optional={"rank": numbers})
well_formed_events = st.one_of(
    st.tuples(st.just("chatMsg"), st.fixed_dictionaries({"username": texts, "msg": texts}, optional={"time": numbers})),
    st.tuples(
        st.just("pm"), st.fixed_dictionaries({"username": texts, "msg": texts}, optional={"to": texts, "time": numbers})
    ),
    st.tuples(st.sampled_from(["addUser", "setUserRank"]), user_payload),
    st.tuples(st.just("userLeave"), st.fixed_dictionaries({"name": texts})),
    st.tuples(st.just("userlist"), st.lists(user_payload, max_size=4)),
    st.tuples(st.just("usercount"), numbers),
    st.tuples(
        st.just("changeMedia"),
        st.fixed_dictionaries({"id": texts}, optional={"title": texts, "type": texts, "seconds": numbers}),
    ),
)


def event_frame(name, payload):
    return "42" + json.dumps([name, payload])


frames = st.one_of(
    st.text(max_size=60),
    st.builds(lambda s: "4" + s, st.text(max_size=40)),
    st.builds(lambda s: "42" + s, st.text(max_size=40)),
    st.builds(event_frame, st.sampled_from(EVENTS) | st.text(max_size=10), payload_values),
    st.sampled_from(["2", "3", "6", "1", "40", "41", '40{"sid":"x"}', '44{"message":"Rate limit exceeded"}']),
    st.just("42" + "[" * 5000),
    st.binary(max_size=20),
)  # fmt: skip


def only_protocol_errors(fn, *args):
    try:
        return fn(*args)
    except ProtocolError:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=200))
def test_packet_parsers_raise_only_protocol_error(text):
    only_protocol_errors(parse_eio, text)
    only_protocol_errors(parse_sio, text)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | st.builds(lambda v: json.dumps(v).encode(), json_values | shaped))
def test_socketconfig_parser_raises_only_protocol_error(body):
    only_protocol_errors(parse_socketconfig, body)


def fresh_session(stage: int) -> Session:
    s = Session(channel="chan", name="bot", password="pw", channel_password="cpw", response_timeout=3.0)
    steps = ['0{"sid":"a","pingInterval":25000,"pingTimeout":20000}', '40{"sid":"n"}', '42["userlist",[]]',
             '42["login",{"success":true,"name":"bot"}]']  # fmt: skip
    for frame in steps[:stage]:
        s.receive(frame, 0.0)
    return s


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 4), st.lists(frames, min_size=1, max_size=8), st.floats(0, 1e6))
def test_session_survives_any_frames(stage, batch, now):
    s = fresh_session(stage)
    for frame in batch:
        only_protocol_errors(s.receive, frame, now)
        s.tick(now)
        s.data_to_send()
        d = s.deadline()
        assert d is None or d == d  # never NaN
    for frame in s.data_to_send():
        parse_eio(frame)  # whatever it queues is well-formed


class NullOutbox:
    def say(self, text):
        assert isinstance(text, str)

    def pm(self, to, text):
        assert isinstance(to, str) and isinstance(text, str)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """One real Database for every example: a storage call under a name it lacks fails the test."""
    with Database(tmp_path_factory.mktemp("fuzz") / "rosey.db") as database:
        yield database


@settings(max_examples=2000, deadline=None)
@given(st.tuples(st.sampled_from(EVENTS), payload_values) | well_formed_events, st.booleans())
def test_channel_bot_survives_any_payload(db, event, ready):
    name, payload = event
    bot = ChannelBot(BotState("1", "c"), db, NullOutbox())
    if ready:
        bot.became_ready("bot")
    only_protocol_errors(bot.handle, name, payload)
    assert db.write_status().ok  # whatever the payload held, what was stored was storable


@settings(max_examples=1000, deadline=None)
@given(payload_values)
def test_payload_parsers_raise_only_protocol_error(payload):
    for fn in (payloads.userlist, payloads.user, payloads.count, payloads.cooldown_ms, payloads.media,
               payloads.antiflood, payloads.error_text):  # fmt: skip
        only_protocol_errors(fn, payload)
    only_protocol_errors(payloads.chat_message, payload, 0)
    only_protocol_errors(payloads.private_message, payload, 0)


def test_deep_nesting_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        fresh_session(4).receive("42" + "[" * 100_000 + "]" * 100_000, 0)

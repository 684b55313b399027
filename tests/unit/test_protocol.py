"""The sans-I/O core: packets, discovery, payloads and the session state machine."""

import pytest

from rosey_bot.protocol import (
    EioType,
    ProtocolError,
    Session,
    SessionState,
    SioType,
    build_event,
    choose_server,
    parse_eio,
    parse_sio,
    parse_socketconfig,
    payloads,
    socketconfig_url,
    websocket_url,
)
from rosey_bot.protocol.session import Closed, CloseKind, Ready, ServerEvent

OPEN = '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1048576}'


def test_engine_io_packets():
    assert parse_eio("2").type == EioType.PING
    assert parse_eio(OPEN).data.startswith("{")
    for bad in ("", "9", "x", b"2", None):
        with pytest.raises(ProtocolError):
            parse_eio(bad)


def test_socket_io_packets():
    assert parse_sio("0").type == SioType.CONNECT
    assert parse_sio('0{"sid":"x"}').data == {"sid": "x"}
    assert parse_sio("1").type == SioType.DISCONNECT
    event = parse_sio('2["chatMsg",{"msg":"hi"}]')
    assert (event.type, event.data) == (SioType.EVENT, ["chatMsg", {"msg": "hi"}])
    assert parse_sio('212["x"]').ack_id == 12
    assert parse_sio('2/admin,["x"]').namespace == "/admin"
    assert parse_sio('4{"message":"Rate limit exceeded"}').data["message"] == "Rate limit exceeded"
    for bad in ("", "7", '2{"a":1}', "2[]", "2[1]", "2[", "5[]", "0[1]", "2" + "[" * 100000):
        with pytest.raises(ProtocolError):
            parse_sio(bad)


def test_build_event():
    assert build_event("chatMsg", {"msg": "hé", "meta": {}}) == '42["chatMsg",{"msg":"hé","meta":{}}]'
    with pytest.raises(ProtocolError):
        build_event("x", float("nan"))


def test_discovery_prefers_secure_and_builds_ws_url():
    servers = parse_socketconfig(
        b'{"servers":[{"url":"http://a:8080","secure":false},{"url":"https://b","secure":true,"ipv6":true},'
        b'{"url":"https://c","secure":true}]}'
    )
    assert choose_server(servers) == "https://c"
    assert websocket_url("https://c") == "wss://c/socket.io/?EIO=4&transport=websocket"
    assert websocket_url("http://a:8080/") == "ws://a:8080/socket.io/?EIO=4&transport=websocket"
    assert socketconfig_url("https://cytu.be/", "my-chan") == "https://cytu.be/socketconfig/my-chan.json"
    for bad in (b'{"error":"Channel x does not exist."}', b"[]", b'{"servers":[{"url":"ftp://x"}]}', b"\xff"):
        with pytest.raises(ProtocolError):
            parse_socketconfig(bad)
    with pytest.raises(ProtocolError):
        socketconfig_url("https://x", "../etc")


def _ready_session(**kw) -> Session:
    s = Session(channel="chan", name="bot", response_timeout=3.0, **kw)
    s.receive(OPEN, 0)
    s.receive('40{"sid":"n"}', 0)
    s.receive('42["userlist",[]]', 0)
    s.receive('42["login",{"success":true,"name":"bot","guest":true}]', 0)
    s.data_to_send()
    return s


def test_session_walks_to_ready_one_answer_at_a_time():
    s = Session(channel="chan", name="bot", password="pw", response_timeout=3.0)
    assert s.data_to_send() == []
    with pytest.raises(ProtocolError):
        s.emit("chatMsg", {"msg": "too early"})
    s.receive(OPEN, 1.0)
    assert s.data_to_send() == ["40"]
    with pytest.raises(ProtocolError):  # no 42 before the server's 40{sid}
        s.emit("chatMsg", {"msg": "too early"})
    s.receive('40{"sid":"n"}', 1.0)
    assert s.data_to_send() == ['42["joinChannel",{"name":"chan"}]']
    events = s.receive('42["userlist",[{"name":"a","rank":1}]]', 1.1)
    assert s.state is SessionState.IN_CHANNEL and not s.can_chat
    assert s.data_to_send() == ['42["login",{"name":"bot","pw":"pw"}]']
    events = s.receive('42["login",{"success":true,"name":"bot"}]', 1.2)
    assert Ready("bot", True) in events and s.can_chat
    s.receive('42["rank",1]', 1.3)
    assert s.rank == 1


def test_pings_are_answered_and_silence_is_death():
    s = _ready_session()
    s.receive("2", 10.0)
    assert s.data_to_send() == ["3"]
    assert s.deadline() == 10.0 + 25 + 20
    assert s.tick(54.9) == []
    assert s.tick(55.0) == [Closed(CloseKind.DEAD, "heard nothing for pingInterval+pingTimeout")]
    assert s.closed


def test_every_awaited_answer_has_a_response_timeout():
    s = Session(channel="chan", name="bot", response_timeout=0.5)
    assert s.tick(0.6)[0].kind is CloseKind.TIMEOUT  # no handshake
    s = Session(channel="chan", name="bot", response_timeout=0.5)
    s.receive(OPEN, 0)
    s.receive('40{"sid":"n"}', 0)
    assert s.tick(0.4) == []
    [closed] = s.tick(0.5)
    assert closed.kind is CloseKind.TIMEOUT and "joinChannel" in closed.reason


def test_login_failure_kick_disconnect_and_rate_limit_close_the_session():
    s = _ready_session()
    events = s.receive('42["kick",{"reason":"bye"}]', 1)
    assert events[-1] == Closed(CloseKind.KICKED, "bye")
    assert s.receive("2", 2) == []  # closed: nothing more
    assert _ready_session().receive("41", 1) == [Closed(CloseKind.SERVER, "server disconnected the namespace (41)")]
    s = Session(channel="c", name="bot")
    s.receive(OPEN, 0)
    [closed] = s.receive('44{"message":"Rate limit exceeded"}', 0)
    assert closed.kind is CloseKind.RATE_LIMITED
    s = Session(channel="c", name="bot")
    for frame in (OPEN, '40{"sid":"n"}', '42["userlist",[]]'):
        s.receive(frame, 0)
    events = s.receive('42["login",{"success":false,"error":"That name is already taken"}]', 0)
    assert events[-1] == Closed(CloseKind.LOGIN_FAILED, "That name is already taken")


def test_channel_password_flow():
    s = Session(channel="c", name="bot", channel_password="cpw")
    for frame in (OPEN, '40{"sid":"n"}'):
        s.receive(frame, 0)
    s.data_to_send()
    s.receive('42["needPassword",false]', 0)
    assert s.data_to_send() == ['42["channelPassword","cpw"]']
    assert s.receive('42["needPassword",true]', 0)[-1].kind is CloseKind.PASSWORD
    s = Session(channel="c", name="bot")
    for frame in (OPEN, '40{"sid":"n"}'):
        s.receive(frame, 0)
    assert s.receive('42["needPassword",false]', 0)[-1].kind is CloseKind.PASSWORD


def test_anonymous_session_is_read_only():
    s = Session(channel="c", name="")
    for frame in (OPEN, '40{"sid":"n"}'):
        s.receive(frame, 0)
    events = s.receive('42["userlist",[]]', 0)
    assert Ready("", False) in events and not s.can_chat


def test_malformed_frames_leave_the_session_unchanged():
    s = _ready_session()
    before = (s.state, s.rank, s.deadline())
    for bad in ('42["rank","high"]', '42["login",{}]', "42[", "4", '42/x,["a"]', OPEN, '42["userlist",{}]'):
        with pytest.raises(ProtocolError):
            s.receive(bad, 5)
    assert (s.state, s.rank, s.deadline()) == before
    assert s.receive('42["chatMsg",{"username":"a","msg":"b"}]', 5) == [
        ServerEvent("chatMsg", {"username": "a", "msg": "b"})
    ]


def test_session_repr_hides_passwords():
    s = Session(channel="c", name="bot", password="hunter2", channel_password="chanpw")
    assert "hunter2" not in repr(s) and "chanpw" not in repr(s)


def test_session_takes_its_passwords_by_name_only():
    with pytest.raises(TypeError):
        Session("c", "bot", "hunter2", "chanpw")  # positional: the two passwords are easy to swap


def test_payloads():
    assert payloads.chat_message({"username": "a", "msg": "b", "time": 5}, 9).time_ms == 5
    assert payloads.chat_message({"username": "a", "msg": "b", "time": "x"}, 9).time_ms == 9
    assert payloads.userlist([{"name": "a", "rank": 2}]) == [payloads.User("a", 2)]
    assert payloads.media({"id": "x", "title": "t", "seconds": 5, "type": "yt"}).duration_s == 5.0
    assert payloads.cooldown_ms(100) == 100.0
    assert payloads.antiflood({"chat_antiflood": True, "chat_antiflood_params": {"burst": 4, "sustained": 1}}) == (
        True,
        4.0,
        1.0,
    )
    for fn, bad in (
        (payloads.count, -1),
        (payloads.count, True),
        (payloads.count, float("inf")),
        (payloads.user, {"name": ""}),
        (payloads.user, {"name": "a", "rank": "x"}),
        (payloads.cooldown_ms, "x"),
        (payloads.media, {"id": None}),
    ):
        with pytest.raises(ProtocolError):
            fn(bad)

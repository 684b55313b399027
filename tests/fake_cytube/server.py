"""The fake CyTube server, with the real server's awkward behaviour, each switchable per test.

It parses frames on its own (not with rosey_bot.protocol) so a bug shared by
both sides cannot hide. It runs its own event loop on a thread; the test-facing
methods are thread-safe. Everything clients send is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

# Never log frames at DEBUG (they carry passwords).
ws_log = logging.getLogger("fake_cytube.websocket")
ws_log.setLevel(logging.INFO)

NAME_RE = re.compile(r"[a-zA-Z0-9_-]{1,20}")
CONTROL_RE = re.compile(r"[\x00-\x1f]+")
# CyTube's chat commands: a chat line "/name ..." runs the command instead of being
# posted, with the SENDER's rank (name -> lowest rank that may run it; lower ranks are
# silently ignored). Unknown "/words" are posted as text. The defaults of CyTube 3.x.
CHAT_COMMANDS = {
    "me": 0,
    "sp": 0,
    "afk": 0,
    "say": 1.5,
    "shout": 1.5,
    "rcv": 1.5,
    "poll": 1.5,
    "kick": 1.5,
    "mute": 1.5,
    "smute": 1.5,
    "unmute": 1.5,
    "unsmute": 1.5,
    "clear": 2,
    "ban": 2,
    "ipban": 2,
    "kickanons": 2,
    "clean": 2,
    "cleantitle": 2,
    "a": 255,
}


def sanitize_text(msg: str) -> str:
    """CyTube's XSS.sanitizeText: every chat line and PM reaches clients HTML-escaped."""
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        msg = msg.replace(raw, entity)
    return msg.replace("(", "&#40;").replace(")", "&#41;")


CHANNEL_RE = re.compile(r"[\w-]{1,30}")
RATE_LIMIT = '44{"message":"Rate limit exceeded"}'


@dataclass
class Behaviour:
    channel: str = "test"
    ping_interval_ms: int = 25000
    ping_timeout_ms: int = 120000
    heartbeat: bool = True
    # chat + PM flood limiter shared per user: burst, then per second; resets after 2 s quiet
    chat_burst: float = 20
    chat_rate: float = 10
    antiflood: bool = False  # chat_antiflood for ranks < 2
    antiflood_burst: float = 4
    antiflood_rate: float = 1
    # connects per IP: a bucket of connect_burst refilled one per connect_interval seconds
    connect_limit: bool = True
    connect_burst: int = 5
    connect_interval: float = 10.0
    rank_delay: float = 0.05  # rank arrives after login
    userlist_delay: float = 0.0
    usercount_delay: float = 0.3  # debounced, late
    guest_login_error: str | None = None
    channel_password: str | None = None
    accounts: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (password, rank)
    replay: list[tuple[str, str]] = field(default_factory=list)  # (username, msg) sent on join


@dataclass
class Conn:
    id: int
    ws: ServerConnection
    sid: str
    namespace: bool = False
    joined: bool = False
    userlist_sent: bool = False
    name: str | None = None
    rank: int = -1
    guest: bool = False
    rate_limited: bool = False
    silent: bool = False
    last_pong: float = field(default_factory=time.monotonic)
    tokens: float = 0.0
    last_chat: float = 0.0
    closed_by_client: bool | None = None

    @property
    def can_chat(self) -> bool:
        return self.joined and self.userlist_sent and self.name is not None


@dataclass
class Frame:
    conn: int
    t: float
    frame: str


class FakeCyTube:
    def __init__(self, behaviour: Behaviour | None = None, host: str = "127.0.0.1", port: int = 0):
        """``host``: loopback for in-process tests; another address when other hosts must reach it."""
        self.behaviour = behaviour or Behaviour()
        self.host, self.port = host, port
        self.received: list[Frame] = []  # every frame clients sent
        self.sent: list[Frame] = []
        self.chats: list[tuple[str, str]] = []  # accepted (username, msg)
        self.pms: list[tuple[str, str, str]] = []  # accepted (from, to, msg)
        self.dropped: list[tuple[str, str]] = []  # (why, frame)
        self.commands: list[tuple[str, str]] = []  # chat commands that RAN: (username, line)
        self.ignored_commands: list[tuple[str, str]] = []  # sent by a rank too low to run them
        self.cooldowns = 0
        self.connects = 0
        self.rate_limited_connects = 0
        self.logins: list[tuple[str, bool]] = []  # (name, guest) successful
        self.conns: dict[int, Conn] = {}
        self.closed: list[Conn] = []
        self.virtual_users: dict[str, int] = {}
        self.history: list[dict] = []
        self._ids = itertools.count(1)
        self._connect_tokens = float(self.behaviour.connect_burst)
        self._connect_at = time.monotonic()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-cytube", daemon=True)
        self._server = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeCyTube:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._shutdown())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> FakeCyTube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def restart(self, down: float = 1.0) -> None:
        """Drop every connection and the listening socket, stay down ``down`` seconds, come back."""
        self._call(self._shutdown())
        time.sleep(down)
        self._call(self._listen())

    def _call(self, coro, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _listen(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._http,
            ping_interval=None,
            max_size=2**20,
            logger=ws_log,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()

    # -- test controls (thread-safe) ------------------------------------------------------
    def add_user(self, name: str, rank: int = 0) -> None:
        self.virtual_users[name] = rank
        self._call(self._broadcast("addUser", {"name": name, "rank": rank, "profile": {}, "meta": {}}))

    def user_says(self, name: str, msg: str) -> None:
        self._call(self._chat_from(name, msg))

    def user_pm(self, name: str, to: str, msg: str) -> None:
        payload = {"username": name, "msg": sanitize_text(msg), "meta": {}, "time": _now_ms(), "to": to}
        self._call(self._to_named(to, "pm", payload))

    def send_event(self, event: str, payload: Any = None) -> None:
        self._call(self._send_all(_event(event, payload), joined_only=True))

    def send_raw(self, frame: str | bytes) -> None:
        self._call(self._send_all(frame, joined_only=False))

    def kick_all(self, reason: str = "Kicked by test") -> None:
        """Like CyTube: ``kick`` then ``41``, and the socket stays open until the client closes it."""
        self._call(self._kick(reason))

    def go_silent(self) -> None:
        """Open connections stop pinging and stop answering (new connections behave normally)."""
        for conn in list(self.conns.values()):
            conn.silent = True

    def client_frames(self, prefix: str = "") -> list[str]:
        return [f.frame for f in list(self.received) if f.frame.startswith(prefix)]

    def events_from_clients(self, name: str) -> list[Any]:
        out = []
        for frame in self.client_frames("42"):
            try:
                data = json.loads(frame[2:])
            except ValueError:
                continue
            if isinstance(data, list) and data and data[0] == name:
                out.append(data[1] if len(data) > 1 else None)
        return out

    @property
    def ready_clients(self) -> list[Conn]:
        return [c for c in list(self.conns.values()) if c.can_chat]

    # -- HTTP: /socketconfig/<channel>.json -----------------------------------------------
    def _http(self, connection: ServerConnection, request):
        path = request.path.split("?")[0]
        if path.startswith("/socketconfig/") and path.endswith(".json"):
            channel = path[len("/socketconfig/") : -len(".json")]
            if not CHANNEL_RE.fullmatch(channel):
                return _json(connection, HTTPStatus.NOT_FOUND, {"error": f"Channel {channel} does not exist."})
            return _json(connection, HTTPStatus.OK, {"servers": [{"url": self.url, "secure": False}]})
        if not path.startswith("/socket.io/") or "EIO=4" not in request.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    # -- the websocket side -----------------------------------------------------------------
    def _take_connect_token(self) -> bool:
        b = self.behaviour
        if not b.connect_limit:
            return True
        now = time.monotonic()
        self._connect_tokens = min(
            b.connect_burst, self._connect_tokens + (now - self._connect_at) / b.connect_interval
        )
        self._connect_at = now
        if self._connect_tokens >= 1:
            self._connect_tokens -= 1
            return True
        return False

    async def _handle(self, ws: ServerConnection) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        b = self.behaviour
        conn = Conn(next(self._ids), ws, f"sid{next(self._ids)}", tokens=b.chat_burst)
        self.conns[conn.id] = conn
        self.connects += 1
        if not self._take_connect_token():
            conn.rate_limited = True
            self.rate_limited_connects += 1
        heart = asyncio.create_task(self._heartbeat(conn))
        try:
            open_body = {
                "sid": conn.sid,
                "upgrades": [],
                "pingInterval": b.ping_interval_ms,
                "pingTimeout": b.ping_timeout_ms,
                "maxPayload": 1048576,
            }
            await self._send(conn, "0" + json.dumps(open_body))
            async for frame in ws:
                if conn.silent:
                    continue
                self.received.append(Frame(conn.id, time.monotonic(), frame if isinstance(frame, str) else "<bin>"))
                await self._on_frame(conn, frame)
        except ConnectionClosed:
            pass
        finally:
            # The client closed it if its close frame came first (and not from a server close).
            conn.closed_by_client = ws.protocol.close_rcvd is not None and bool(ws.protocol.close_rcvd_then_sent)
            heart.cancel()
            self._tasks.discard(task)
            self.conns.pop(conn.id, None)
            self.closed.append(conn)
            if conn.name and conn.joined:
                await self._broadcast("userLeave", {"name": conn.name})

    async def _heartbeat(self, conn: Conn) -> None:
        b = self.behaviour
        if not b.heartbeat:
            return
        while True:
            await asyncio.sleep(b.ping_interval_ms / 1000)
            if conn.silent:
                continue
            sent = time.monotonic()
            await self._send(conn, "2")
            await asyncio.sleep(b.ping_timeout_ms / 1000)
            if conn.last_pong < sent and not conn.silent:
                await conn.ws.close()  # the client missed a pong: the real server drops it
                return

    async def _on_frame(self, conn: Conn, frame: str | bytes) -> None:
        if not isinstance(frame, str) or not frame:
            return
        if frame == "3":
            conn.last_pong = time.monotonic()
        elif frame.startswith("40"):
            if conn.rate_limited:
                await self._send(conn, RATE_LIMIT)
            else:
                conn.namespace = True
                await self._send(conn, "40" + json.dumps({"sid": conn.sid + "ns"}))
        elif frame.startswith("42"):
            if not conn.namespace:
                # The real server drops the whole connection, without a close status.
                self.dropped.append(("42 before 40", frame))
                conn.ws.transport.abort()
                return
            try:
                data = json.loads(frame[2:])
            except ValueError:
                return
            if isinstance(data, list) and data and isinstance(data[0], str):
                await self._on_event(conn, data[0], data[1] if len(data) > 1 else None, frame)

    async def _on_event(self, conn: Conn, name: str, payload: Any, frame: str) -> None:
        b = self.behaviour
        if name == "joinChannel":
            if not isinstance(payload, dict) or payload.get("name") != b.channel:
                return
            if b.channel_password is not None:
                await self._send(conn, _event("needPassword", False))
                return
            await self._join(conn)
        elif name == "channelPassword":
            if payload == b.channel_password:
                await self._join(conn)
            else:
                await self._send(conn, _event("needPassword", True))
        elif name == "login":
            await self._login(conn, payload)
        elif name in ("chatMsg", "pm"):
            await self._chat_or_pm(conn, name, payload, frame)

    async def _join(self, conn: Conn) -> None:
        b = self.behaviour
        conn.joined = True
        await self._send(conn, _event("setPermissions", {"chat": 0}))
        await self._send(
            conn,
            _event(
                "channelOpts",
                {
                    "chat_antiflood": b.antiflood,
                    "chat_antiflood_params": {"burst": b.antiflood_burst, "sustained": b.antiflood_rate},
                },
            ),
        )
        self._later(b.userlist_delay, self._send_userlist, conn)
        self._later(b.usercount_delay, self._send_usercount, conn)

    async def _send_userlist(self, conn: Conn) -> None:
        await self._send(conn, _event("userlist", self._userlist()))
        conn.userlist_sent = True
        for msg in self.history[-15:]:
            await self._send(conn, _event("chatMsg", msg))
        await self._send(
            conn,
            _event(
                "changeMedia",
                {
                    "id": "abc",
                    "title": "A song",
                    "seconds": 200,
                    "duration": "03:20",
                    "type": "yt",
                    "meta": {},
                    "currentTime": 0,
                    "paused": False,
                },
            ),
        )

    async def _send_usercount(self, conn: Conn) -> None:
        await self._send(conn, _event("usercount", len(self._userlist()) + (0 if conn.name else 1)))

    def _userlist(self) -> list[dict]:
        users = [{"name": n, "rank": r, "profile": {}, "meta": {}} for n, r in self.virtual_users.items()]
        users += [
            {"name": c.name, "rank": c.rank, "profile": {}, "meta": {}}
            for c in self.conns.values()
            if c.name and c.joined
        ]
        return users

    async def _login(self, conn: Conn, payload: Any) -> None:
        b = self.behaviour
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str) or conn.name:
            return
        name, pw = payload["name"], payload.get("pw")
        if pw is not None:
            account = b.accounts.get(name)
            if account is None or account[0] != pw:
                await self._send(
                    conn, _event("login", {"success": False, "error": "Invalid username/password combination"})
                )
                return
            rank, guest = account[1], False
        else:
            error = b.guest_login_error
            if error is None and not NAME_RE.fullmatch(name):
                error = "Invalid username.  Usernames must consist of 1-20 characters a-z, A-Z, 0-9, -, or _."
            elif error is None and name in b.accounts:
                error = "That username is registered."
            elif error is None and (name in self.virtual_users or any(c.name == name for c in self.conns.values())):
                error = "That name is already taken on this channel."
            if error:
                await self._send(conn, _event("login", {"success": False, "error": error}))
                return
            rank, guest = 0, True
        conn.name, conn.guest = name, guest
        self.logins.append((name, guest))
        await self._send(conn, _event("login", {"success": True, "name": name, "guest": guest}))
        self._later(b.rank_delay, self._set_rank, conn, rank)
        if conn.joined:
            await self._broadcast("addUser", {"name": name, "rank": 0, "profile": {}, "meta": {}})

    async def _set_rank(self, conn: Conn, rank: int) -> None:
        conn.rank = rank
        await self._send(conn, _event("rank", rank))

    def _flood_ok(self, conn: Conn) -> tuple[bool, float]:
        b = self.behaviour
        burst, rate = b.chat_burst, b.chat_rate
        if b.antiflood and conn.rank < 2:
            burst, rate = min(burst, b.antiflood_burst), min(rate, b.antiflood_rate)
        now = time.monotonic()
        if now - conn.last_chat > 2.0:  # CyTube's throttle resets after 2 s of quiet
            conn.tokens = burst
        else:
            conn.tokens = min(burst, conn.tokens + (now - conn.last_chat) * rate)
        conn.last_chat = now
        if conn.tokens >= 1:
            conn.tokens -= 1
            return True, 0
        return False, 1000 / rate

    async def _chat_or_pm(self, conn: Conn, name: str, payload: Any, frame: str) -> None:
        if not conn.can_chat:
            self.dropped.append(("before login and userlist", frame))
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("msg"), str):
            await self._send(conn, _event("errorMsg", {"msg": "Expected msg to be a string"}))
            return
        ok, cooldown = self._flood_ok(conn)
        if not ok:
            self.dropped.append(("flood", frame))
            self.cooldowns += 1
            await self._send(conn, _event("cooldown", cooldown))
            return
        msg = payload["msg"][:1000]
        if name == "chatMsg":
            self.chats.append((conn.name, msg))
            # As CyTube: control characters become a space, blank lines are dropped,
            # and a line starting with a known "/command" runs it instead of posting.
            line = CONTROL_RE.sub(" ", msg)
            if not line.strip():
                self.dropped.append(("blank", frame))
                return
            if not await self._chat_command(conn, line):
                await self._chat_from(conn.name, line)
        else:
            to = payload.get("to")
            if not isinstance(to, str):
                return
            self.pms.append((conn.name, to, msg))
            out = {"username": conn.name, "msg": sanitize_text(msg), "meta": {}, "time": _now_ms(), "to": to}
            await self._to_named(to, "pm", out)
            await self._send(conn, _event("pm", out))

    async def _chat_command(self, conn: Conn, line: str) -> bool:
        """Run ``line`` as CyTube does when it is a chat command; True when it was one."""
        if not line.startswith("/"):
            return False
        command, _, rest = line[1:].partition(" ")
        if command not in CHAT_COMMANDS:
            return False
        if conn.rank < CHAT_COMMANDS[command]:
            self.ignored_commands.append((conn.name, line))
            return True
        self.commands.append((conn.name, line))
        if command == "clear":
            self.history = []
            await self._broadcast("clearchat", None)
        elif command in ("me", "sp", "say", "shout", "rcv") and rest:
            # The rest is processed as a chat line again: "/me /clear" clears the chat.
            if not await self._chat_command(conn, rest):
                await self._chat_from(conn.name, rest)
        return True

    async def _chat_from(self, username: str, msg: str) -> None:
        body = {"username": username, "msg": sanitize_text(msg), "meta": {}, "time": _now_ms()}
        self.history = (self.history + [body])[-15:]
        await self._broadcast("chatMsg", body)

    async def _kick(self, reason: str) -> None:
        for conn in list(self.conns.values()):
            if conn.joined:
                await self._send(conn, _event("kick", {"reason": reason}))
                await self._send(conn, "41")
                conn.joined = conn.namespace = False

    # -- sending ------------------------------------------------------------------------
    async def _send(self, conn: Conn, frame: str | bytes) -> None:
        if conn.silent:
            return
        try:
            await conn.ws.send(frame)
            self.sent.append(Frame(conn.id, time.monotonic(), frame if isinstance(frame, str) else "<bin>"))
        except ConnectionClosed:
            pass

    async def _broadcast(self, event: str, payload: Any) -> None:
        await self._send_all(_event(event, payload), joined_only=True)

    async def _send_all(self, frame: str | bytes, joined_only: bool) -> None:
        for conn in list(self.conns.values()):
            if conn.joined or not joined_only:
                await self._send(conn, frame)

    async def _to_named(self, name: str, event: str, payload: Any) -> None:
        for conn in list(self.conns.values()):
            if conn.name == name:
                await self._send(conn, _event(event, payload))

    def _later(self, delay: float, fn, *args) -> None:
        async def run():
            await asyncio.sleep(delay)
            await fn(*args)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _event(name: str, payload: Any = None) -> str:
    return "42" + json.dumps([name] if payload is None else [name, payload])


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(connection: ServerConnection, status: HTTPStatus, body: dict):
    response = connection.respond(status, json.dumps(body))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response

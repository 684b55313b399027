"""The CyTube session state machine, sans I/O.

Feed it every received text frame with the current clock value; it answers
pings, joins the namespace, the channel and logs in, one awaited answer at a
time, each bounded by ``response_timeout``. It returns events for the layer
above and queues the frames to send. It never emits a ``42`` before the
server's ``40{sid}`` (the server drops the whole connection if we do).

    connecting --0{..}--> open --40{sid}--> namespace --userlist--> in channel --login ok--> ready
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .errors import ProtocolError
from .packets import (
    NAMESPACE_CONNECT,
    PONG,
    EioType,
    SioType,
    build_event,
    connect_error_message,
    parse_eio,
    parse_open,
    parse_sio,
)


class SessionState(enum.Enum):
    CONNECTING = "connecting"
    OPEN = "open"
    NAMESPACE = "namespace joined"
    IN_CHANNEL = "in channel"
    READY = "ready"
    CLOSED = "closed"


class CloseKind(enum.Enum):
    SERVER = "server disconnect"
    KICKED = "kicked"
    RATE_LIMITED = "connect rate limited"
    CONNECT_ERROR = "connect error"
    DEAD = "heartbeat timeout"
    TIMEOUT = "response timeout"
    LOGIN_FAILED = "login failed"
    PASSWORD = "channel password"


@dataclass(frozen=True)
class Opened:
    sid: str
    ping_interval: float  # seconds
    ping_timeout: float


@dataclass(frozen=True)
class NamespaceJoined:
    sid: str


@dataclass(frozen=True)
class ServerEvent:
    name: str
    payload: Any = None


@dataclass(frozen=True)
class Ready:
    """In the channel, logged in (unless anonymous) and the user list has arrived."""

    name: str
    can_chat: bool


@dataclass(frozen=True)
class Closed:
    kind: CloseKind
    reason: str


Event = Opened | NamespaceJoined | ServerEvent | Ready | Closed

RATE_LIMIT_MESSAGE = "rate limit"


@dataclass
class _Awaiting:
    answers: frozenset[str]
    deadline: float
    what: str


@dataclass(repr=False, kw_only=True)  # by name: two passwords side by side are easy to swap
class Session:
    channel: str
    name: str = ""
    password: str = field(default="", repr=False)
    channel_password: str = field(default="", repr=False)
    response_timeout: float = 3.0
    now: float = 0.0

    def __post_init__(self) -> None:
        self.state = SessionState.CONNECTING
        self.sid: str | None = None
        self.rank: int | None = None
        self.logged_in_name: str | None = None
        self.userlist_seen = False
        self.ping_interval = 25.0
        self.ping_timeout = 120.0
        self._last_heard = self.now
        self._outgoing: list[str] = []
        self._awaiting: _Awaiting | None = _Awaiting(frozenset({"open"}), self.now + self.response_timeout, "open")
        self._password_tried = False

    def __repr__(self) -> str:  # never show the passwords
        return f"<Session {self.channel!r} as {self.name or 'anonymous'!r}: {self.state.value}>"

    # -- what the I/O layer asks ------------------------------------------------
    @property
    def namespace_joined(self) -> bool:
        return self.state in (SessionState.NAMESPACE, SessionState.IN_CHANNEL, SessionState.READY)

    @property
    def can_chat(self) -> bool:
        """Chat sent before login{success:true} and userlist is silently dropped by the server."""
        return self.state is SessionState.READY and self.logged_in_name is not None

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def data_to_send(self) -> list[str]:
        out, self._outgoing = self._outgoing, []
        return out

    def deadline(self) -> float | None:
        """The clock value by which something must arrive, or the session is dead."""
        if self.closed:
            return None
        candidates = []
        if self.state is not SessionState.CONNECTING:
            candidates.append(self._last_heard + self.ping_interval + self.ping_timeout)
        if self._awaiting:
            candidates.append(self._awaiting.deadline)
        return min(candidates) if candidates else None

    def tick(self, now: float) -> list[Event]:
        """Check the deadlines at clock value ``now``."""
        if self.closed:
            return []
        if self._awaiting and now >= self._awaiting.deadline:
            return [self._close(CloseKind.TIMEOUT, f"no answer to {self._awaiting.what} in {self.response_timeout}s")]
        silent_for = now - self._last_heard
        if self.state is not SessionState.CONNECTING and silent_for >= self.ping_interval + self.ping_timeout:
            return [self._close(CloseKind.DEAD, "heard nothing for pingInterval+pingTimeout")]
        return []

    def emit(self, name: str, *args: Any) -> None:
        if not self.namespace_joined:
            raise ProtocolError(f"cannot emit {name!r} before the namespace is joined")
        self._outgoing.append(build_event(name, *args))

    # -- receiving ------------------------------------------------------------------
    def receive(self, frame: Any, now: float) -> list[Event]:
        """Consume one text frame. Raises ProtocolError (state unchanged) on malformed input."""
        if self.closed:
            return []
        packet = parse_eio(frame)
        if packet.type == EioType.OPEN:
            return self._on_open(packet.data, now)
        if self.state is SessionState.CONNECTING:
            raise ProtocolError("packet before the Engine.IO handshake")
        if packet.type == EioType.PING:
            self._last_heard = now
            self._outgoing.append(PONG)
            return []
        if packet.type == EioType.CLOSE:
            return [self._close(CloseKind.SERVER, "Engine.IO close")]
        if packet.type != EioType.MESSAGE:  # pong, upgrade, noop: nothing to do
            self._last_heard = now
            return []
        sio = parse_sio(packet.data)
        if sio.namespace != "/":
            raise ProtocolError("packet for a namespace we never joined")
        if sio.type == SioType.EVENT:
            event = self._check_event(sio.data[0], sio.data[1] if len(sio.data) > 1 else None)
            self._last_heard = now
            return self._on_event(event, now)
        self._last_heard = now
        if sio.type == SioType.CONNECT:
            return self._on_namespace(sio.data, now)
        if sio.type == SioType.DISCONNECT:
            return [self._close(CloseKind.SERVER, "server disconnected the namespace (41)")]
        if sio.type == SioType.CONNECT_ERROR:
            message = connect_error_message(sio)
            kind = CloseKind.RATE_LIMITED if RATE_LIMIT_MESSAGE in message.lower() else CloseKind.CONNECT_ERROR
            return [self._close(kind, message)]
        return []  # acks: we never ask for one

    def _on_open(self, data: str, now: float) -> list[Event]:
        if self.state is not SessionState.CONNECTING:
            raise ProtocolError("second Engine.IO handshake")
        body = parse_open(data)
        self.sid = body["sid"]
        self.ping_interval = body["pingInterval"] / 1000
        self.ping_timeout = body["pingTimeout"] / 1000
        self._last_heard = now
        self.state = SessionState.OPEN
        self._outgoing.append(NAMESPACE_CONNECT)
        self._await({"namespace"}, now, "namespace connect (40)")
        return [Opened(self.sid, self.ping_interval, self.ping_timeout)]

    def _on_namespace(self, data: Any, now: float) -> list[Event]:
        if self.state is not SessionState.OPEN:
            raise ProtocolError("namespace connect answer we did not ask for")
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str):
            raise ProtocolError("namespace connect without a sid")
        self.state = SessionState.NAMESPACE
        join: dict[str, Any] = {"name": self.channel}
        self.emit("joinChannel", join)
        self._await({"userlist", "needPassword"}, now, "joinChannel")
        return [NamespaceJoined(sid)]

    @staticmethod
    def _check_event(name: str, payload: Any) -> ServerEvent:
        """Validate the payloads the session itself acts on."""
        if name == "login" and not (isinstance(payload, dict) and isinstance(payload.get("success"), bool)):
            raise ProtocolError("login answer without a boolean success")
        if name == "rank" and (isinstance(payload, bool) or not isinstance(payload, int) or abs(payload) > 2**31):
            raise ProtocolError("rank is not an integer")
        if name == "needPassword" and not isinstance(payload, bool):
            raise ProtocolError("needPassword is not a boolean")
        if name == "userlist" and not isinstance(payload, list):
            raise ProtocolError("userlist is not a list")
        return ServerEvent(name, payload)

    def _on_event(self, event: ServerEvent, now: float) -> list[Event]:
        if not self.namespace_joined:
            raise ProtocolError(f"event {event.name!r} before the namespace is joined")
        events: list[Event] = [event]
        name, payload = event.name, event.payload
        if name == "needPassword":
            closed = self._on_need_password(payload, now)
            if closed:
                events.append(closed)
        elif name == "userlist" and not self.userlist_seen:
            self.userlist_seen = True
            if self.state is SessionState.NAMESPACE:
                self.state = SessionState.IN_CHANNEL
                if self.name:
                    login: dict[str, Any] = {"name": self.name}
                    if self.password:
                        login["pw"] = self.password
                    self.emit("login", login)
                    self._await({"login"}, now, "login")
                else:  # anonymous: in the channel, read-only
                    self._awaiting = None
                    self.state = SessionState.READY
                    events.append(Ready("", can_chat=False))
        elif name == "login" and self._awaiting and "login" in self._awaiting.answers:
            if payload["success"]:
                self.logged_in_name = payload.get("name") if isinstance(payload.get("name"), str) else self.name
                self._awaiting = None
                self.state = SessionState.READY
                events.append(Ready(self.logged_in_name, can_chat=True))
            else:
                error = payload.get("error")
                events.append(self._close(CloseKind.LOGIN_FAILED, str(error)[:200] if error else "login refused"))
        elif name == "rank":
            self.rank = payload
        elif name == "kick":
            reason = payload.get("reason") if isinstance(payload, dict) else None
            events.append(self._close(CloseKind.KICKED, str(reason)[:200] if reason else "kicked"))
        return events

    def _on_need_password(self, wrong: bool, now: float) -> Closed | None:
        if wrong or self._password_tried:
            return self._close(CloseKind.PASSWORD, "wrong channel password")
        if not self.channel_password:
            return self._close(CloseKind.PASSWORD, "the channel needs a password (server.channel_password)")
        self._password_tried = True
        self.emit("channelPassword", self.channel_password)
        self._await({"userlist", "needPassword"}, now, "channelPassword")
        return None

    def _await(self, answers: set[str], now: float, what: str) -> None:
        self._awaiting = _Awaiting(frozenset(answers), now + self.response_timeout, what)

    def _close(self, kind: CloseKind, reason: str) -> Closed:
        self.state = SessionState.CLOSED
        self._awaiting = None
        return Closed(kind, reason)

"""Sans-I/O CyTube protocol: Engine.IO v4 / socket.io v4 framing and the session state machine.

Nothing here touches a socket or a clock: callers pass received text frames and
the current time in, and take frames to send and events out. Every malformed
input raises :class:`ProtocolError` and nothing else, so it can be fuzzed.
"""

from .discovery import choose_server, parse_socketconfig, socketconfig_url, websocket_url
from .errors import ProtocolError
from .packets import (
    EioPacket,
    EioType,
    SioPacket,
    SioType,
    build_event,
    parse_eio,
    parse_sio,
)
from .session import Session, SessionState

__all__ = [
    "EioPacket",
    "EioType",
    "ProtocolError",
    "Session",
    "SessionState",
    "SioPacket",
    "SioType",
    "build_event",
    "choose_server",
    "parse_eio",
    "parse_sio",
    "parse_socketconfig",
    "socketconfig_url",
    "websocket_url",
]

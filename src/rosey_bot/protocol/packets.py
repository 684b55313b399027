"""Engine.IO v4 and socket.io v4 packets: pure parse and build functions.

Engine.IO text packet: one digit type then data (``0{json}``, ``2``, ``3``, ``4<socket.io>``).
socket.io packet (inside an Engine.IO ``4``): one digit type, optional ``/nsp,``, optional
ack id digits, optional JSON (``0``, ``0{sid}``, ``1``, ``2["event",payload]``, ``4{message}``).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from .errors import ProtocolError

# Deeply nested JSON makes json.loads recurse; cap the frame size we try to decode.
MAX_FRAME_CHARS = 1_048_576


class EioType(enum.IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class SioType(enum.IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


@dataclass(frozen=True)
class EioPacket:
    type: EioType
    data: str = ""


@dataclass(frozen=True)
class SioPacket:
    type: SioType
    namespace: str = "/"
    ack_id: int | None = None
    data: Any = None


def loads(text: str) -> Any:
    """json.loads that only ever raises ProtocolError."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"invalid JSON: {str(exc)[:80]}") from None


def dumps(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"cannot encode payload: {exc}") from None


def parse_eio(frame: Any) -> EioPacket:
    if not isinstance(frame, str):
        raise ProtocolError("binary frames are not part of the CyTube protocol")
    if not frame:
        raise ProtocolError("empty frame")
    if len(frame) > MAX_FRAME_CHARS:
        raise ProtocolError("frame larger than maxPayload")
    head = frame[0]
    if not ("0" <= head <= "6"):
        raise ProtocolError(f"unknown Engine.IO packet type {head!r}")
    return EioPacket(EioType(int(head)), frame[1:])


def parse_open(data: str) -> dict[str, Any]:
    """The ``0{...}`` handshake: sid, pingInterval and pingTimeout (milliseconds)."""
    body = loads(data)
    if not isinstance(body, dict):
        raise ProtocolError("open packet is not an object")
    sid = body.get("sid")
    interval, timeout = body.get("pingInterval"), body.get("pingTimeout")
    if not isinstance(sid, str):
        raise ProtocolError("open packet without a sid")
    for name, value in (("pingInterval", interval), ("pingTimeout", timeout)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 86_400_000:
            raise ProtocolError(f"open packet with a bad {name}")
    return body


def parse_sio(data: str) -> SioPacket:
    if not data:
        raise ProtocolError("empty socket.io packet")
    head = data[0]
    if not ("0" <= head <= "6"):
        raise ProtocolError(f"unknown socket.io packet type {head!r}")
    kind = SioType(int(head))
    rest = data[1:]
    if kind in (SioType.BINARY_EVENT, SioType.BINARY_ACK):
        raise ProtocolError("binary socket.io packets are not supported")
    namespace = "/"
    if rest.startswith("/"):
        comma = rest.find(",")
        namespace, rest = (rest, "") if comma < 0 else (rest[:comma], rest[comma + 1 :])
    digits = 0
    while digits < len(rest) and digits < 18 and "0" <= rest[digits] <= "9":
        digits += 1
    ack_id = int(rest[:digits]) if digits else None
    rest = rest[digits:]
    payload = loads(rest) if rest else None
    if kind in (SioType.EVENT, SioType.ACK):
        if not isinstance(payload, list) or (kind == SioType.EVENT and not payload):
            raise ProtocolError("event packet without an array payload")
        if kind == SioType.EVENT and not isinstance(payload[0], str):
            raise ProtocolError("event name is not a string")
    elif kind == SioType.CONNECT and payload is not None and not isinstance(payload, dict):
        raise ProtocolError("connect packet payload is not an object")
    elif kind == SioType.CONNECT_ERROR and not isinstance(payload, dict | str):
        raise ProtocolError("connect error without a message")
    return SioPacket(kind, namespace, ack_id, payload)


def connect_error_message(packet: SioPacket) -> str:
    data = packet.data
    if isinstance(data, dict):
        message = data.get("message")
        return message if isinstance(message, str) else dumps(data)[:200]
    return str(data)[:200]


def build_event(name: str, *args: Any) -> str:
    """``42["name",arg...]``: an event on the default namespace."""
    if not isinstance(name, str) or not name:
        raise ProtocolError("event name must be a non-empty string")
    return "42" + dumps([name, *args])


PONG = "3"
PING = "2"
NAMESPACE_CONNECT = "40"

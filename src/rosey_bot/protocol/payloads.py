"""Typed views of the CyTube event payloads the bot uses; anything else is a ProtocolError."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import ProtocolError

MAX_RANK = 2**31


@dataclass(frozen=True)
class ChatMessage:
    username: str
    msg: str
    time_ms: int


@dataclass(frozen=True)
class PrivateMessage:
    username: str
    to: str
    msg: str
    time_ms: int


@dataclass(frozen=True)
class User:
    name: str
    rank: int


@dataclass(frozen=True)
class Media:
    id: str
    title: str
    type: str
    duration_s: float


def _obj(payload: Any, what: str) -> dict:
    if not isinstance(payload, dict):
        raise ProtocolError(f"{what} payload is not an object")
    return payload


def _str(d: dict, key: str, what: str, default: str | None = None) -> str:
    value = d.get(key, default)
    if not isinstance(value, str):
        raise ProtocolError(f"{what}.{key} is not a string")
    return value


def _int(value: Any, what: str, low: float = -MAX_RANK, high: float = MAX_RANK) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f"{what} is not a number")
    if not low <= value <= high:
        raise ProtocolError(f"{what} is out of range")
    return int(value)


def _time(d: dict, now_ms: int) -> int:
    value = d.get("time")
    try:
        return _int(value, "time", 0, 2**53)
    except ProtocolError:
        return now_ms


def chat_message(payload: Any, now_ms: int) -> ChatMessage:
    d = _obj(payload, "chatMsg")
    return ChatMessage(_str(d, "username", "chatMsg"), _str(d, "msg", "chatMsg"), _time(d, now_ms))


def private_message(payload: Any, now_ms: int) -> PrivateMessage:
    d = _obj(payload, "pm")
    return PrivateMessage(_str(d, "username", "pm"), _str(d, "to", "pm", ""), _str(d, "msg", "pm"), _time(d, now_ms))


def user(payload: Any) -> User:
    d = _obj(payload, "user")
    name = _str(d, "name", "user")
    if not name:
        raise ProtocolError("user without a name")
    return User(name, _int(d.get("rank", 0), "user.rank"))


def userlist(payload: Any) -> list[User]:
    if not isinstance(payload, list):
        raise ProtocolError("userlist is not a list")
    return [user(u) for u in payload]


def user_name(payload: Any, what: str) -> str:
    return _str(_obj(payload, what), "name", what)


def count(payload: Any) -> int:
    return _int(payload, "usercount", 0, 10**9)


def cooldown_ms(payload: Any) -> float:
    return float(_int(payload, "cooldown", 0, 3_600_000))


def media(payload: Any) -> Media:
    d = _obj(payload, "changeMedia")
    seconds = d.get("seconds", 0)
    duration = float(_int(seconds, "changeMedia.seconds", 0, 10**9)) if seconds is not None else 0.0
    media_id = d.get("id")
    if isinstance(media_id, int | float) and not isinstance(media_id, bool):
        media_id = str(media_id)
    if not isinstance(media_id, str):
        raise ProtocolError("changeMedia.id is not a string")
    return Media(media_id, _str(d, "title", "changeMedia", ""), _str(d, "type", "changeMedia", ""), duration)


def error_text(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("msg"), str):
        return payload["msg"][:300]
    return str(payload)[:300]


def antiflood(payload: Any) -> tuple[bool, float, float] | None:
    """channelOpts -> (chat_antiflood on?, burst, sustained/s), or None when not stated."""
    if not isinstance(payload, dict) or not isinstance(payload.get("chat_antiflood"), bool):
        return None
    params = payload.get("chat_antiflood_params")
    burst, sustained = 4.0, 1.0
    if isinstance(params, dict):
        try:
            burst = float(_int(params.get("burst"), "burst", 1, 1000))
            sustained = float(_int(params.get("sustained"), "sustained", 1, 1000))
        except ProtocolError:
            pass
    return payload["chat_antiflood"], burst, sustained

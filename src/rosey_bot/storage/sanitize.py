"""Coerce whatever the chat server sends into values SQLite stores safely.

CyTube payloads are untrusted: fields can be missing, of the wrong type, huge,
or contain NUL or lone surrogates (which sqlite3 cannot encode). Nothing here raises.
"""

from __future__ import annotations

import math
import time

MAX_NAME = 64  # CyTube names are at most 20 characters; leave room for "[server]" and the like
MAX_TEXT = 4000  # chat is capped at 1000 by the server; keep margin, but bound the row size
MAX_TITLE = 1000
MAX_TYPE = 32
INT64_MAX = 2**63 - 1


def text(value: object, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            value = str(value)
        except Exception:  # a hostile __str__ must not take the bot down
            return ""
    if len(value) > limit:
        value = value[:limit]
    if "\x00" in value:
        # Many SQLite tools cut TEXT at NUL; keep the rest of the message visible.
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON "\ud800" escapes
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def integer(value: object, default: int, lo: int = 0, hi: int = INT64_MAX) -> int:
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        try:
            f = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return default
        if not math.isfinite(f):
            return default
        value = int(f)
    return min(max(value, lo), hi)


def number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


def time_ms(value: object) -> int:
    return integer(value, default=int(time.time() * 1000))

"""Opening the CyTube websocket, on either websockets API.

The venv flavour pins websockets >= 13 and its asyncio API
(``websockets.asyncio.client``); the Debian-native flavour runs on bookworm's
python3-websockets 10.4, which only has the legacy API
(``websockets.legacy.client``). Both connections offer what the client uses:
``async with``, ``recv()`` (safe to cancel), ``send()``, and raise
``ConnectionClosed`` with ``rcvd`` (the close frame received, if any).
"""

from __future__ import annotations

import logging

import websockets
from websockets.exceptions import ConnectionClosed

try:
    from websockets.asyncio.client import connect as _connect

    API = "asyncio"
except ImportError:  # websockets < 13: the legacy API is the only one
    from websockets.legacy.client import connect as _connect

    API = "legacy"

__all__ = ["API", "ConnectionClosed", "close_reason", "open_websocket"]

VERSION = websockets.__version__

# websockets logs every frame at DEBUG, the login frame and its password included
# (both APIs): its logger for our connections is held above DEBUG, whatever the root level.
ws_log = logging.getLogger("rosey_bot.client.websocket")
ws_log.setLevel(logging.INFO)


def open_websocket(url: str, *, open_timeout: float, user_agent: str):
    """An ``async with`` context that yields the open connection."""
    return _connect(
        url,
        open_timeout=open_timeout,
        ping_interval=None,  # Engine.IO has its own heartbeat, driven by the server
        close_timeout=1.0,
        max_size=2**20,
        user_agent_header=user_agent,
        logger=ws_log,
    )


def close_reason(exc: ConnectionClosed) -> str:
    return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"

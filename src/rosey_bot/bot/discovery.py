"""HTTP discovery of the CyTube websocket URL (rosey_bot.fetch, run in a worker thread)."""

from __future__ import annotations

import asyncio

from .. import fetch
from ..protocol import ProtocolError, choose_server, parse_socketconfig, socketconfig_url, websocket_url

MAX_BODY = 65536  # a socketconfig is a few hundred bytes


class DiscoveryError(Exception):
    pass


def _fetch(url: str, timeout: float) -> bytes:
    try:
        answer = fetch.get(url, "CyTube socketconfig", timeout, limit=MAX_BODY)
    except fetch.Unreachable as exc:
        raise DiscoveryError(str(exc)) from None
    if not answer.ok:
        # CyTube says why in the body ({"error": "Channel ... does not exist."}).
        raise DiscoveryError(str(answer.error()))
    return answer.body


async def discover(base_url: str, channel: str, timeout: float) -> str:
    """The ws(s):// URL to connect to; DiscoveryError on any failure."""
    try:
        url = socketconfig_url(base_url, channel)
    except ProtocolError as exc:
        raise DiscoveryError(str(exc)) from None
    body = await asyncio.to_thread(_fetch, url, timeout)
    try:
        return websocket_url(choose_server(parse_socketconfig(body)))
    except ProtocolError as exc:
        raise DiscoveryError(f"{fetch.shown(url)}: {exc}") from None

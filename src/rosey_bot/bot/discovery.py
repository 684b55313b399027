"""HTTP discovery of the CyTube websocket URL (stdlib urllib, run in a worker thread)."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

from ..protocol import ProtocolError, choose_server, parse_socketconfig, socketconfig_url, websocket_url
from ..version import installed_version

MAX_BODY = 65536


class DiscoveryError(Exception):
    pass


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": f"rosey-bot/{installed_version()}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # http/https only
            return response.read(MAX_BODY)
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_BODY)
        exc.close()
        try:
            parse_socketconfig(body)
        except ProtocolError as detail:
            raise DiscoveryError(f"{url}: HTTP {exc.code}: {detail}") from None
        raise DiscoveryError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DiscoveryError(f"{url}: {getattr(exc, 'reason', exc)}") from None


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
        raise DiscoveryError(f"{url}: {exc}") from None

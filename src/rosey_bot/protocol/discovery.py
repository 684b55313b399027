"""Server discovery: ``GET {base}/socketconfig/{channel}.json`` -> the websocket URL."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

from .errors import ProtocolError
from .packets import loads

# CyTube's own rule for channel names; config.py validates server.channel with it too,
# so a bad name is a config error, not a reconnect loop.
CHANNEL_RE = re.compile(r"[\w-]{1,30}")
CHANNEL_RULE = "1-30 characters of letters, digits, '_' or '-'"
SOCKET_PATH = "/socket.io/?EIO=4&transport=websocket"


def valid_channel(name: str) -> bool:
    return CHANNEL_RE.fullmatch(name) is not None


def socketconfig_url(base_url: str, channel: str) -> str:
    if not valid_channel(channel):
        raise ProtocolError(f"channel name must be {CHANNEL_RULE}")
    return f"{base_url.rstrip('/')}/socketconfig/{quote(channel)}.json"


def parse_socketconfig(body: str | bytes) -> list[dict]:
    """The server list; raises ProtocolError on anything that is not one."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("socketconfig is not UTF-8") from None
    data = loads(body)
    if not isinstance(data, dict):
        raise ProtocolError("socketconfig is not an object")
    if isinstance(data.get("error"), str):
        raise ProtocolError(f"socketconfig error: {data['error'][:200]}")
    servers = data.get("servers")
    if not isinstance(servers, list):
        raise ProtocolError("socketconfig has no server list")
    good = [s for s in servers if isinstance(s, dict) and isinstance(s.get("url"), str) and _http_url(s["url"])]
    if not good:
        raise ProtocolError("socketconfig lists no usable server")
    return good


def choose_server(servers: list[dict]) -> str:
    """Prefer a secure server; among equals keep the server's order, IPv4 before IPv6."""
    ranked = sorted(servers, key=lambda s: (s.get("secure") is not True, s.get("ipv6") is True))
    return ranked[0]["url"]


def websocket_url(server_url: str) -> str:
    if not _http_url(server_url):
        raise ProtocolError(f"not an http(s) URL: {server_url[:100]!r}")
    parts = urlsplit(server_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "", "", "")) + SOCKET_PATH


def _http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.hostname is not None

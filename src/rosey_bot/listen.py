"""Can a server listen on ``[section] host`` and ``port``? One-line answers naming the key.

Used by ``rosey-bot check-config`` (which must not take the port: the running
bot holds it) and at start-up of the bot's health server and the dashboard,
so a bad address ends with exit 78 instead of a traceback and a restart loop.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

UNPRIVILEGED_PORT_START = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")


class ListenError(Exception):
    """``key`` is "host" or "port": which of the two settings the operator must change."""

    def __init__(self, key: str, problem: str):
        self.key, self.problem = key, problem
        super().__init__(problem)


def resolve(host: str, port: int) -> list[tuple]:
    """The addresses a listening socket for host:port binds, as waitress resolves them."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError("host", f"cannot resolve {host!r}: {exc.strerror}; use an IP address") from None
    except (UnicodeError, ValueError):  # a label over 63 characters, for example
        raise ListenError("host", f"{host!r} is not a valid host name; use an IP address") from None
    if not infos:
        raise ListenError("host", f"{host!r} resolves to no address")
    return infos


def numeric_host(host: str, port: int) -> str:
    """The first address ``host`` resolves to: one socket, whatever /etc/hosts says."""
    return resolve(host, port)[0][4][0]


def explain(exc: OSError, host: str, port: int) -> ListenError:
    """A bind() failure in the operator's words, blaming host or port."""
    code = exc.errno
    if code == errno.EADDRINUSE:
        return ListenError(
            "port",
            f"{host}:{port} is already in use by another process (see which: ss -ltnp 'sport = :{port}')",
        )
    if code in (errno.EACCES, errno.EPERM):
        return _privileged(port)
    if code == errno.EADDRNOTAVAIL:
        return ListenError("host", f"{host} is not an address of this machine")
    return ListenError("port", f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _privileged(port: int) -> ListenError:
    return ListenError("port", f"{port} is a privileged port and the service runs unprivileged; use a port >= 1024")


def unprivileged_port_start() -> int:
    try:
        return int(UNPRIVILEGED_PORT_START.read_text())
    except (OSError, ValueError):
        return 1024


def check(host: str, port: int) -> None:
    """Everything but the port being free: the name resolves to local addresses, the port is unprivileged.

    Binds each address on an ephemeral port for a moment, so it works while
    the running service holds the real one.
    """
    if port < unprivileged_port_start():
        raise _privileged(port)
    for family, socktype, proto, _, sockaddr in resolve(host, port):
        with socket.socket(family, socktype, proto) as sock:
            try:
                sock.bind((sockaddr[0], 0, *sockaddr[2:]))
            except OSError as exc:
                raise explain(exc, sockaddr[0], port) from None

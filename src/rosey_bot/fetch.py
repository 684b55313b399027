"""Every HTTP GET the product makes (discovery, the dashboard's upstreams, rosey-report, rosey-healthcheck).

One exception (``Unreachable``, always one line an operator can act on), one
timeout policy and one trust store:

- **timeouts**: connecting gets at most ``CONNECT_TIMEOUT`` (never more than
  the caller's ``timeout``); then the server must send something at least every
  ``timeout`` seconds (requests' read timeout is per socket read);
- **size**: at most ``limit`` bytes of body are read (a wrong URL can point at
  a video), which also bounds how long a slowly dripping answer can last;
- **TLS** trusts the system CA store, so a CA the operator adds with
  ``update-ca-certificates`` works; requests would use certifi's bundle in the
  virtualenv flavour (docs/TROUBLESHOOTING.md, TLS).

A leaf module: it imports nothing of rosey_bot but the version for the
User-Agent, so every layer may use it.
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .version import installed_version

SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # what update-ca-certificates writes
CONNECT_TIMEOUT = 5.0  # seconds; a host that takes longer to accept is as good as down
MAX_BODY = 1 << 20  # bytes; the largest answer we read (a Prometheus range query) is tens of KiB
_CHUNK = 16384


class Unreachable(Exception):
    """No usable answer: not reachable, not trusted, too slow, too big, an HTTP error or not JSON."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of any status; ``where`` is the URL as shown in messages."""

    status: int
    body: bytes
    what: str
    where: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:  # also UnicodeDecodeError
            raise Unreachable(f"{self.what} at {self.where} answered something that is not JSON") from None

    def error(self) -> Unreachable:
        """The HTTP status as an Unreachable, with the server's own ``error`` text when it gave one."""
        detail = ""
        try:
            body = json.loads(self.body)
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                detail = ": " + _one_line(body["error"])[:200]
        except ValueError:
            pass
        return Unreachable(f"{self.what} at {self.where} answered HTTP {self.status}{detail}")


def trust() -> str | bool:
    """The CA bundle requests verifies against: the system's when it exists (it does on Debian)."""
    return SYSTEM_CA_BUNDLE if os.path.isfile(SYSTEM_CA_BUNDLE) else True


def get(url: str, what: str, timeout: float, params: dict | None = None, limit: int = MAX_BODY) -> Answer:
    """GET ``url``; any HTTP status is an Answer, everything else an Unreachable naming ``what``."""
    where = shown(url)
    headers = {"User-Agent": f"rosey-bot/{installed_version()}"}
    try:
        with requests.get(
            url,
            params=params,
            headers=headers,
            timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            verify=trust(),
            stream=True,  # read no more than ``limit``
        ) as response:
            body = _read(response, limit, f"{what} at {where}")
            return Answer(response.status_code, body, what, where)
    except (requests.RequestException, OSError) as exc:
        # A read timeout in the body comes wrapped as a ConnectionError: ask the root cause.
        if isinstance(exc, requests.Timeout) or isinstance(_root(exc), TimeoutError):
            raise Unreachable(f"{what} unreachable at {where}: no answer within {timeout:g}s") from None
        raise Unreachable(f"{what} unreachable at {where}: {reason(exc)}") from None


def get_json(url: str, what: str, timeout: float, params: dict | None = None, accept: tuple[int, ...] = ()) -> object:
    """The JSON of a 2xx answer (or of a status in ``accept``); Unreachable otherwise."""
    answer = get(url, what, timeout, params)
    if not answer.ok and answer.status not in accept:
        raise answer.error()
    return answer.json()


def _read(response: requests.Response, limit: int, who: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise Unreachable(f"{who} answered more than {limit} bytes")
    return b"".join(chunks)


def shown(url: str) -> str:
    """``url`` as messages show it: no query string (long, may hold tokens) and no user:password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _one_line(url)[:200]
    if not parts.scheme or not parts.netloc:
        return _one_line(url)[:200]
    host = parts.netloc.rpartition("@")[2]
    return _one_line(f"{parts.scheme}://{host}{parts.path}")[:200]


def reason(exc: BaseException) -> str:
    """The root cause in a few words: requests and urllib3 wrap it three deep in their own texts."""
    root = _root(exc)
    if isinstance(root, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({root.verify_message}); is its CA in {SYSTEM_CA_BUNDLE}?"
    if isinstance(root, ssl.SSLError):
        return f"TLS error: {root.reason or root}"
    return _one_line(str(root)) or type(root).__name__


def _root(exc: BaseException) -> BaseException:
    """The innermost exception that is not requests' or urllib3's wrapper."""
    seen: set[int] = set()
    found = exc
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not type(current).__module__.startswith(("requests", "urllib3")):
            found = current
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = nxt or current.__cause__ or current.__context__
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())

"""rosey_bot.fetch over real sockets: every way an answer can be unusable ends in one Unreachable line."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from pathlib import Path

import certifi
import pytest

from rosey_bot import fetch
from tests.support.tls import JSONServer, make_ca

STOP = threading.Event()  # released at teardown so hanging handlers end


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, status: int, body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/json":
            self._answer(200, json.dumps({"query": self.path, "agent": self.headers["User-Agent"]}).encode())
        elif path == "/notjson":
            self._answer(200, b"<html>a login page</html>")
        elif path == "/error":
            self._answer(400, b'{"status":"error","error":"parse error at char 3:\\nunexpected"}')
        elif path == "/plain500":
            self._answer(500, b"Internal Server Error")
        elif path == "/down":
            self._answer(503, b'{"status":"unhealthy"}')
        elif path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/big":
            self._answer(200, b"[" + b"0," * 40000 + b"0]")
        elif path == "/silent":  # accepts, never answers
            STOP.wait(30)
        elif path == "/stalls":  # headers and part of the body, then nothing
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"partial": ')
            self.wfile.flush()
            STOP.wait(30)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    STOP.clear()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    STOP.set()
    httpd.shutdown()
    httpd.server_close()


def unreachable(url: str, **kw) -> str:
    with pytest.raises(fetch.Unreachable) as info:
        fetch.get_json(url, "Thing", kw.pop("timeout", 3.0), **kw)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def test_json_with_query_and_user_agent(server):
    body = fetch.get_json(f"{server}/json", "Thing", 3.0, params={"query": "sum(up)", "n": 2})
    assert body["query"] == "/json?query=sum%28up%29&n=2"
    assert body["agent"].startswith("rosey-bot/")


def test_not_json_is_unreachable(server):
    assert unreachable(f"{server}/notjson") == f"Thing at {server}/notjson answered something that is not JSON"


def test_http_error_carries_the_servers_error_text_on_one_line(server):
    message = unreachable(f"{server}/error?query=secret-ish")
    assert message == f"Thing at {server}/error answered HTTP 400: parse error at char 3: unexpected"


def test_http_error_without_json(server):
    assert unreachable(f"{server}/plain500") == f"Thing at {server}/plain500 answered HTTP 500"


def test_accepted_error_status_returns_its_json(server):
    assert fetch.get_json(f"{server}/down", "Thing", 3.0, accept=(503,)) == {"status": "unhealthy"}
    assert unreachable(f"{server}/down").endswith("answered HTTP 503")
    answer = fetch.get(f"{server}/down", "Thing", 3.0)
    assert (answer.status, answer.ok, answer.json()) == (503, False, {"status": "unhealthy"})


def test_redirect_is_followed(server):
    # As urllib did: a server moved from http:// to https:// keeps working.
    assert fetch.get_json(f"{server}/moved", "Thing", 3.0)["query"] == "/json"


def test_body_over_the_limit(server):
    with pytest.raises(fetch.Unreachable, match="answered more than 1000 bytes"):
        fetch.get(f"{server}/big", "Thing", 3.0, limit=1000)
    assert len(fetch.get_json(f"{server}/big", "Thing", 3.0)) == 40001  # under the default limit


def test_read_timeout(server):
    assert (
        unreachable(f"{server}/silent", timeout=0.3) == f"Thing unreachable at {server}/silent: no answer within 0.3s"
    )


def test_read_timeout_in_the_body(server):
    message = unreachable(f"{server}/stalls", timeout=0.3)
    assert message == f"Thing unreachable at {server}/stalls: no answer within 0.3s"


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        url = f"http://127.0.0.1:{port}/x"
        assert unreachable(url) == f"Thing unreachable at {url}: [Errno 111] Connection refused"


def test_bad_url_and_unresolvable_name():
    assert unreachable("ftp://example.org/x").startswith("Thing unreachable at ftp://example.org/x: No connection")
    # The resolver's own words (a socket.gaierror), not requests' three layers of wrapping.
    assert unreachable("http://no-such-host.invalid/x").startswith(
        "Thing unreachable at http://no-such-host.invalid/x: [Errno -"
    )


def test_shown_url_hides_credentials_and_query():
    assert fetch.shown("https://user:pw@host:8443/p/a?token=x") == "https://host:8443/p/a"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


def test_tls_trusts_the_system_bundle_and_nothing_else(ca, tmp_path, monkeypatch):
    with JSONServer(ca, {"/x.json": {"ok": True}}) as srv:
        url = f"{srv.url}/x.json"
        # The system bundle without the test CA: refused, and the message says why and where to look.
        monkeypatch.setattr(fetch, "SYSTEM_CA_BUNDLE", certifi.where())
        message = unreachable(url)
        assert "TLS certificate not trusted" in message and certifi.where() in message, message
        # A bundle naming the CA in an environment variable is not where the trust comes from.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.ca_cert))
        assert "TLS certificate not trusted" in unreachable(url)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        # The CA added to the system bundle: trusted.
        bundle = ca.bundle_with(Path(certifi.where()), tmp_path / "ca-certificates.crt")
        monkeypatch.setattr(fetch, "SYSTEM_CA_BUNDLE", str(bundle))
        assert fetch.get_json(url, "Thing", 3.0) == {"ok": True}


def test_the_system_bundle_is_debians():
    assert fetch.SYSTEM_CA_BUNDLE == "/etc/ssl/certs/ca-certificates.crt"
    assert fetch.trust() == fetch.SYSTEM_CA_BUNDLE  # present on every machine the package supports

"""A throwaway certificate authority and an HTTPS JSON server whose certificate it signed.

The CA is made fresh with the openssl command, so it is in no trust store at
all until a test puts it into one.
"""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TestCA:
    ca_cert: Path
    server_cert: Path
    server_key: Path

    def bundle_with(self, base: Path, dest: Path) -> Path:
        """``base`` (a CA bundle such as the system's) plus this CA, written to ``dest``."""
        dest.write_bytes(base.read_bytes() + b"\n" + self.ca_cert.read_bytes())
        return dest


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_ca(directory: Path, ip: str = "127.0.0.1") -> TestCA:
    """A CA, and a server certificate for the address ``ip`` signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName = IP:{ip}\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=rosey-bot test CA",
             "-keyout", ca_key, "-out", ca_cert)  # fmt: skip
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={ip}", "-keyout", key, "-out", csr)
    _openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
             "-extfile", ext, "-out", cert)  # fmt: skip
    return TestCA(ca_cert, cert, key)


class JSONServer:
    """HTTPS on 127.0.0.1 answering ``routes[path]`` as JSON (404 otherwise), on its own thread."""

    def __init__(self, ca: TestCA, routes: dict[str, object]):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                found = self.path in routes
                body = json.dumps(routes[self.path] if found else {"error": "not found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.server_cert, ca.server_key)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # The handshake runs in the handler's thread, so a client that rejects it blocks nothing.
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="https-json", daemon=True)

    def __enter__(self) -> JSONServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

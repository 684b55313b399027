"""Discovery over HTTPS trusts the system CA store, as an operator's update-ca-certificates leaves it.

The real `rosey-bot run` process runs in a private mount namespace (unshare -m)
where /etc/ssl/certs/ca-certificates.crt is the host's bundle plus a CA made
for this test, so the host's store is untouched. No variable in the
environment names a bundle: the trust can only come from the system path.
The control runs the same way without the CA in the store: the bot must not
connect, and its log must say why.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.net import free_port
from tests.support.tls import JSONServer, make_ca
from tests.support.waiting import wait_until

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Every variable that could point requests, OpenSSL or curl at another bundle.
TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
# In the namespace: the bundle over the system's, then the bot (shell arguments, no quoting games).
IN_NAMESPACE = 'if [ -n "$1" ]; then mount --bind "$1" "$2" || exit 99; fi; exec "$3" -c "$4" run'


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def discovery(make_fake, ca):
    """The fake CyTube (plain websocket) and its socketconfig served over HTTPS by a CA no store has."""
    fake = make_fake()
    routes = {f"/socketconfig/{fake.behaviour.channel}.json": {"servers": [{"url": fake.url, "secure": False}]}}
    with JSONServer(ca, routes) as server:
        yield fake, server.url


def start_bot(tmp_path: Path, server_url: str, bundle: Path | None) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nurl = "{server_url}"\nchannel = "test"\n[account]\nname = "rosey"\n'
        f'[health]\nport = {port}\n[database]\npath = "{tmp_path / "rosey.db"}"\n'
        "[bot]\nreconnect_min_delay = 0.2\nreconnect_max_delay = 1.0\n"
    )
    cli = Path(sys.executable).parent / "rosey-bot"
    env = {k: v for k, v in os.environ.items() if k not in TRUST_VARIABLES}
    log = tmp_path / "bot.log"
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", IN_NAMESPACE, "sh"]
    argv += [str(bundle or ""), str(SYSTEM_BUNDLE), str(cli), str(config)]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    return proc, port, log


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def health(port: int) -> int | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code
    except requests.ConnectionError:
        return None


@pytest.fixture
def host_bundle_untouched():
    before = hashlib.sha256(SYSTEM_BUNDLE.read_bytes()).hexdigest()
    yield
    assert hashlib.sha256(SYSTEM_BUNDLE.read_bytes()).hexdigest() == before, "the host's CA store changed"


def test_a_ca_in_the_system_store_is_trusted(discovery, ca, tmp_path, host_bundle_untouched):
    fake, server_url = discovery
    bundle = ca.bundle_with(SYSTEM_BUNDLE, tmp_path / "ca-certificates.crt")
    proc, port, log = start_bot(tmp_path, server_url, bundle)
    try:
        wait_until(lambda: health(port) == 200 or proc.poll() is not None, timeout=30, what="the bot in its channel")
        assert proc.poll() is None, log.read_text()
        assert fake.logins == [("rosey", True)]
    finally:
        assert stop(proc) == 0, log.read_text()
    assert "certificate" not in log.read_text()


def test_without_the_ca_in_the_store_the_bot_does_not_connect(discovery, tmp_path, host_bundle_untouched):
    fake, server_url = discovery
    proc, port, log = start_bot(tmp_path, server_url, bundle=None)
    try:
        wait_until(
            lambda: "TLS certificate not trusted" in log.read_text() or proc.poll() is not None,
            timeout=30,
            what="the TLS error in the bot's log",
        )
        assert proc.poll() is None, log.read_text()
        assert health(port) == 503  # running, answering, not in the channel
        assert fake.connects == 0
    finally:
        stop(proc)
    line = next(x for x in log.read_text().splitlines() if "TLS certificate not trusted" in x)
    assert f"is its CA in {SYSTEM_BUNDLE}?" in line, line

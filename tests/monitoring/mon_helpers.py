"""Helpers for the monitoring tests: real processes on 127.0.0.1, polled with deadlines."""

from __future__ import annotations

import configparser
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
RULES = MONITORING / "rules" / "rosey-bot.rules.yml"
RENDERER = MONITORING / "alertmanager" / "render_alertmanager.py"
RECIPIENTS = {"default": "ops@example.test", "critical": "oncall@example.test", "info": "info@example.test"}


def tool(name: str) -> str:
    path = shutil.which(name)
    # A missing tool is a broken test machine, not a reason to skip (make test-deps installs them).
    assert path, f"{name} not found: run `make test-deps` (Debian packages prometheus, prometheus-alertmanager)"
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TRANSIENT = (OSError, urllib.error.URLError, ValueError, KeyError)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25, errors: tuple = TRANSIENT):
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` at the deadline.
    ``errors`` are what a not-yet-ready upstream raises; they only mean "ask again"."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except errors as exc:
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_exc!r})")


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


def post_json(url: str, body, timeout: float = 5.0) -> int:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


class Process:
    """A child process with its output in a log file; always stopped by the fixture that made it."""

    def __init__(self, argv: list[str], log: Path, name: str):
        self.name, self.log = name, log
        self._log_fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=self._log_fh, stderr=subprocess.STDOUT)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, url: str, timeout: float = 60) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            return http_ok(url)

        try:
            wait_until(ready, timeout, f"{self.name} at {url}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log ---\n{self.log_tail()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log_fh.close()


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def dump_yaml(data, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def render_alertmanager(tmp_path, smtp_port: int):
    """The shipped template + a test copy of the shipped mail.conf, through the shipped renderer."""
    mail = configparser.ConfigParser(interpolation=None)
    mail.read(MONITORING / "alertmanager" / "mail.conf")
    mail["smtp"]["smarthost"] = f"127.0.0.1:{smtp_port}"
    mail["smtp"]["from"] = "rosey-monitoring@example.test"
    for receiver, address in RECIPIENTS.items():
        mail["recipients"][receiver] = address
    mail_conf = tmp_path / "mail.conf"
    with open(mail_conf, "w") as f:
        mail.write(f)
    out = tmp_path / "am" / "alertmanager.yml"
    res = subprocess.run(
        [sys.executable, str(RENDERER), "--share", str(MONITORING), "--mail", str(mail_conf), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    return out

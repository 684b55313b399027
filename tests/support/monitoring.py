"""Real Prometheus and Alertmanager (the Debian packages' binaries) for tests, each on a free loopback port.

The shipped monitoring files live in monitoring/; ``render_alertmanager`` runs the shipped renderer on a
test copy of the shipped mail.conf. Every launcher is a context manager that stops what it started.
"""

from __future__ import annotations

import configparser
import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import yaml

from .net import free_port, http_ok
from .paths import ROOT
from .waiting import NOT_READY, wait_until

MONITORING = ROOT / "monitoring"
RULES = MONITORING / "rules" / "rosey-bot.rules.yml"
RENDERER = MONITORING / "alertmanager" / "render_alertmanager.py"
RECIPIENTS = {"default": "ops@example.test", "critical": "oncall@example.test", "info": "info@example.test"}


def tool(name: str) -> str:
    path = shutil.which(name)
    # A missing tool is a broken test machine, not a reason to skip (make test-deps installs them).
    assert path, f"{name} not found: run `make test-deps` (Debian packages prometheus, prometheus-alertmanager)"
    return path


class Process:
    """A child process with its output in a log file; always stopped by whoever started it."""

    def __init__(self, argv: list[str], log: Path, name: str):
        self.name, self.log = name, log
        self._log_fh = open(log, "wb")  # noqa: SIM115 (closed in stop)
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
            wait_until(ready, timeout, f"{self.name} at {url}", 0.25, NOT_READY)
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


@contextlib.contextmanager
def _serving(name: str, binary: str, args: list[str], log: Path) -> Iterator[SimpleNamespace]:
    port = free_port()
    proc = Process([tool(binary), *args, f"--web.listen-address=127.0.0.1:{port}"], log, name)
    try:
        url = f"http://127.0.0.1:{port}"
        proc.wait_ready(f"{url}/-/ready")
        yield SimpleNamespace(url=url, port=port, proc=proc)
    finally:
        proc.stop()


def prometheus(config: Path, data: Path, log: Path) -> contextlib.AbstractContextManager[SimpleNamespace]:
    """Prometheus on ``config``, keeping its TSDB in ``data``; yields url, port and the Process."""
    return _serving("prometheus", "prometheus", [f"--config.file={config}", f"--storage.tsdb.path={data}"], log)


def alertmanager(config: Path, data: Path, log: Path) -> contextlib.AbstractContextManager[SimpleNamespace]:
    """Alertmanager on ``config``, without the HA gossip port; yields url, port and the Process."""
    args = [f"--config.file={config}", f"--storage.path={data}", "--cluster.listen-address="]
    return _serving("alertmanager", "prometheus-alertmanager", args, log)


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def dump_yaml(data, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def render_alertmanager(workdir: Path, smtp_port: int) -> Path:
    """The shipped template + a test copy of the shipped mail.conf, through the shipped renderer."""
    mail = configparser.ConfigParser(interpolation=None)
    mail.read(MONITORING / "alertmanager" / "mail.conf")
    mail["smtp"]["smarthost"] = f"127.0.0.1:{smtp_port}"
    mail["smtp"]["from"] = "rosey-monitoring@example.test"
    for receiver, address in RECIPIENTS.items():
        mail["recipients"][receiver] = address
    mail_conf = workdir / "mail.conf"
    with open(mail_conf, "w") as f:
        mail.write(f)
    out = workdir / "am" / "alertmanager.yml"
    res = subprocess.run(
        [sys.executable, str(RENDERER), "--share", str(MONITORING), "--mail", str(mail_conf), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    return out


def backfill(history: str, source: Path, data: Path) -> Path:
    """Write ``history`` (OpenMetrics text) to ``source`` and turn it into TSDB blocks under ``data`` with
    promtool, as an operator backfills Prometheus: the data directory a Prometheus can then serve."""
    source.write_text(history)
    res = subprocess.run(
        [tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return data

"""Shared by the benchmarks: the fake CyTube server and a real `rosey-bot run` process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_cytube import Behaviour, FakeCyTube  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_fake(**behaviour) -> FakeCyTube:
    return FakeCyTube(Behaviour(**behaviour)).start()


def start_bot(fake: FakeCyTube, workdir: Path, extra: str = "") -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = workdir / "config.toml"
    config.write_text(
        f'[server]\nurl = "{fake.url}"\nchannel = "{fake.behaviour.channel}"\n[account]\nname = "rosey"\n'
        f"[bot]\n{extra}\n[health]\nport = {port}\n"
        f'[database]\npath = "{workdir / "rosey.db"}"\n[log]\nlevel = "WARNING"\n'
    )
    cli = Path(sys.executable).parent / "rosey-bot"
    proc = subprocess.Popen([str(cli), "-c", str(config), "run"], stderr=subprocess.DEVNULL)
    wait_healthy(port, 30)
    return proc, port


def health_code(port: int) -> int | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code
    except requests.RequestException:
        return None


def wait_healthy(port: int, timeout: float, code: int = 200) -> float:
    start = time.monotonic()
    while health_code(port) != code:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"bot not at HTTP {code} after {timeout}s")
        time.sleep(0.005)
    return time.monotonic() - start


def stop_bot(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)

"""/api/health throughput and p99 latency under concurrent load (goal >= 1000 req/s, p99 <= 10 ms).

The real bot process, connected to the fake server; a Python load generator with
keep-alive connections on threads (the machine's cores are shared with it).
"""

import http.client
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from _fakebot import free_port, start_bot, start_fake, stop_bot

CLIENTS = (4, 8)  # concurrent keep-alive clients; waitress serves with 4 threads
SECONDS = 5.0


def worker(port: int, until: float, latencies: list[float], errors: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.perf_counter() < until:
        start = time.perf_counter()
        try:
            conn.request("GET", "/api/health")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
        except (OSError, http.client.HTTPException):
            errors.append(0)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            continue
        latencies.append(time.perf_counter() - start)
    conn.close()


def main() -> None:
    fake = start_fake()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_bot(fake, Path(tmp))
        try:
            print(f"bench_health: GET /api/health on the running bot, {SECONDS:.0f} s per run, client on the same host")
            for clients in CLIENTS:
                measure(port, clients)
            measure_wrk(port)
        finally:
            stop_bot(proc)
            fake.stop()
    measure_baseline()


def measure(port: int, clients: int) -> None:
    per_thread: list[list[float]] = [[] for _ in range(clients)]
    errors: list[int] = []
    until = time.perf_counter() + SECONDS
    threads = [threading.Thread(target=worker, args=(port, until, lat, errors)) for lat in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = sorted(x for lat in per_thread for x in lat)
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"  {clients} clients: {len(latencies) / SECONDS:.0f} req/s (goal >= 1000), "
          f"p50 {statistics.median(latencies) * 1000:.2f} ms, p99 {p99:.2f} ms (goal <= 10 ms), "
          f"errors {len(errors)}")  # fmt: skip


def measure_wrk(port: int) -> None:
    """The same load from wrk (C, epoll): the Python client above competes for the
    same two cores and its own GIL, so this is the fairer server-side figure."""
    if not shutil.which("wrk"):
        print("  wrk: not installed (make bench installs it); no wrk figure")
        return
    for conns in CLIENTS:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{conns}", f"-d{SECONDS:.0f}s", "--latency", f"http://127.0.0.1:{port}/api/health"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
        p50 = re.search(r"\s50%\s+(\S+)", out).group(1)
        p99 = re.search(r"\s99%\s+(\S+)", out).group(1)
        print(f"  wrk, {conns} connections: {float(rate):.0f} req/s, p50 {p50}, p99 {p99}")


BASELINE_APP = """
import sys
from flask import Flask
from waitress import serve
app = Flask("baseline")
app.get("/")(lambda: {"ok": True})
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
"""


def measure_baseline() -> None:
    """A bare Flask+waitress app under the same wrk load: what this machine gives the
    framework itself right now (virtual machines here vary from run to run)."""
    if not shutil.which("wrk"):
        return
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BASELINE_APP, str(port)], stderr=subprocess.DEVNULL)
    try:
        wait_healthy_url(f"http://127.0.0.1:{port}/")
        out = subprocess.run(
            ["wrk", "-t1", "-c4", f"-d{SECONDS:.0f}s", "--latency", f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99 = re.search(r"\s99%\s+(\S+)", out).group(1)
        print(f"  baseline (bare Flask+waitress hello world, wrk, 4 connections): {rate:.0f} req/s, p99 {p99}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_healthy_url(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"baseline app did not answer at {url}")


if __name__ == "__main__":
    main()

"""rosey-report against a real Prometheus holding a synthetic 24 h history of known uptime.

The history is written as OpenMetrics, turned into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics`, and served by a real Prometheus
started on that data dir. Samples sit every 15 s, like real scrapes.

production/bot1 over the 5760 steps of the day:
  - a 5 min process outage (20 scrapes with up 0, no bot metrics), then a restart;
  - 15 min connected-but-disconnected (60 scrapes with bot_connected 0);
  - a quick restart (an upgrade 1.0.0 -> 1.1.0) that no scrape missed;
  - one error every 10 min: 144 errors.
  uptime = (5760 - 20 - 60) / 5760 = 98.611 %, restarts 2.
staging/bot9: connected all day, version 2.0.0, no errors: uptime 100 %.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from rosey_bot import exitcodes
from tests.support.monitoring import backfill, dump_yaml
from tests.support.net import free_port

STEP, STEPS = 15, 5760  # 24 h
OUTAGE = range(1001, 1021)
DISCONNECTED = range(3000, 3060)
UPGRADE_AT = 4000


def history(end: int) -> str:
    """OpenMetrics text for steps 1..STEPS, the last one at ``end``."""
    start = end - STEPS * STEP
    fam: dict[str, list[str]] = {"up": [], "bot_connected": [], "bot_uptime_seconds": [], "bot_errors": []}
    info: list[str] = []
    prod = 'job="rosey-bot",instance="bot1:8000",env="production"'
    stag = 'job="rosey-bot",instance="bot9:8000",env="staging"'
    started, errors = start, 0
    for i in range(1, STEPS + 1):
        t = start + i * STEP
        if i in OUTAGE:
            fam["up"].append(f"up{{{prod}}} 0 {t}")
            started, errors = t, 0  # comes back as a new process
        else:
            if i == UPGRADE_AT:
                started, errors = t - 2, 0
            if i % 40 == 0:
                errors += 1
            version = "1.0.0" if i < UPGRADE_AT else "1.1.0"
            fam["up"].append(f"up{{{prod}}} 1 {t}")
            fam["bot_connected"].append(f"bot_connected{{{prod}}} {0 if i in DISCONNECTED else 1} {t}")
            fam["bot_uptime_seconds"].append(f"bot_uptime_seconds{{{prod}}} {t - started} {t}")
            fam["bot_errors"].append(f"bot_errors_total{{{prod}}} {errors} {t}")
            info.append(f'bot_build_info{{{prod},version="{version}"}} 1 {t}')
    for i in range(1, STEPS + 1):
        t = start + i * STEP
        fam["up"].append(f"up{{{stag}}} 1 {t}")
        fam["bot_connected"].append(f"bot_connected{{{stag}}} 1 {t}")
        fam["bot_uptime_seconds"].append(f"bot_uptime_seconds{{{stag}}} {i * STEP + 100000} {t}")
        fam["bot_errors"].append(f"bot_errors_total{{{stag}}} 7 {t}")
    info_stag = [f'bot_build_info{{{stag},version="2.0.0"}} 1 {start + i * STEP}' for i in range(1, STEPS + 1)]
    # OpenMetrics: one block per family; one series after another, each in time order.
    out = []
    for name, kind in (("up", "gauge"), ("bot_connected", "gauge"), ("bot_uptime_seconds", "gauge")):
        out += [f"# TYPE {name} {kind}", *sorted(fam[name], key=_series_then_time)]
    out += ["# TYPE bot_errors counter", *sorted(fam["bot_errors"], key=_series_then_time)]
    out += ["# TYPE bot_build_info gauge", *sorted(info + info_stag, key=_series_then_time)]
    return "\n".join(out) + "\n# EOF\n"


def _series_then_time(line: str):
    series, _, ts = line.rsplit(" ", 2)
    return series, int(ts)


@pytest.fixture(scope="module")
def end() -> int:
    # An hour ago, on the 15 s grid: well inside retention, clear of "now".
    return (int(time.time()) // STEP) * STEP - 3600


@pytest.fixture
def prometheus(tmp_path, start_prometheus, end):
    data = backfill(history(end), tmp_path / "history.om", tmp_path / "data")
    config = dump_yaml({"global": {"scrape_interval": "15s"}}, tmp_path / "prometheus.yml")  # scrapes nothing
    return start_prometheus(config, data_dir=data)


def report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rosey_bot.report", *args], capture_output=True, text=True, timeout=120
    )


def fields(stdout: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in stdout.splitlines() if ":" in ln)}


def test_report_production_fails_the_target_with_the_known_figures(prometheus, end):
    res = report("--prometheus", prometheus.url, "--end", str(end), "--env", "production")
    assert res.returncode == 1, res.stdout + res.stderr
    out = fields(res.stdout)
    assert out["uptime"] == "98.611 % (target 99.9 %)"
    assert out["errors"] == "144 (0.00167/s, 6.00/h)"
    assert out["restarts"] == "2"
    assert out["versions"] == "1.0.0, 1.1.0"
    assert "bot1:8000 env=production: uptime 98.611 %, coverage 100.0 %" in res.stdout
    assert "bot9" not in res.stdout
    assert out["result"] == "FAIL (bot1:8000 uptime 98.611 % < target 99.9 %)"


def test_report_passes_a_target_the_history_meets(prometheus, end):
    res = report("--prometheus", prometheus.url, "--end", str(end), "--env", "production", "--target", "98.6")
    assert res.returncode == 0, res.stdout + res.stderr
    assert fields(res.stdout)["result"] == "PASS (every instance at least 98.6 %)"


def test_report_staging_passes_at_100_percent(prometheus, end):
    res = report("--prometheus", prometheus.url, "--end", str(end), "--env", "staging")
    assert res.returncode == 0, res.stdout + res.stderr
    out = fields(res.stdout)
    assert out["uptime"] == "100.000 % (target 99.9 %)"
    assert out["errors"].startswith("0 ")
    assert out["restarts"] == "0"
    assert out["versions"] == "2.0.0"


def test_report_all_envs_and_a_shorter_period(prometheus, end):
    res = report("--prometheus", prometheus.url, "--end", str(end))
    assert res.returncode == 1
    out = fields(res.stdout)
    assert out["uptime"] == f"{100 * (2 * STEPS - 80) / (2 * STEPS):.3f} % (target 99.9 %)"  # 99.306 %
    assert out["versions"] == "1.0.0, 1.1.0, 2.0.0"
    # The last 6 h (steps 4321..5760) hold no outage, no disconnect and no restart.
    res = report("--prometheus", prometheus.url, "--end", str(end), "--env", "production", "--period", "6h")
    assert res.returncode == 0, res.stdout
    out = fields(res.stdout)
    assert out["uptime"] == "100.000 % (target 99.9 %)"
    assert out["restarts"] == "0" and out["versions"] == "1.1.0"
    assert out["errors"] == "36 (0.00167/s, 6.00/h)"


def test_report_without_data_fails(prometheus, end):
    res = report("--prometheus", prometheus.url, "--end", str(end), "--env", "nosuchenv")
    assert res.returncode == 1
    assert "no data for job rosey-bot, env nosuchenv" in res.stdout


def test_report_exits_unavailable_when_prometheus_is_unreachable():
    port = free_port()  # nothing listens there
    res = report("--prometheus", f"http://127.0.0.1:{port}")
    assert res.returncode == exitcodes.EX_UNAVAILABLE
    assert res.stdout == ""
    assert res.stderr.strip().splitlines() == [
        f"rosey-report: Prometheus unreachable at http://127.0.0.1:{port}/api/v1/query: [Errno 111] Connection refused"
    ]

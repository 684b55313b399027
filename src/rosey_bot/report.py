"""``rosey-report``: the availability report (docs/DESIGN.md#availability-report), read from Prometheus' HTTP API.

For a period (default 24 h, ending now or at ``--end``) it prints, per bot
instance and overall: uptime % (connected while scraped), error rate, restarts
(uptime resets) and the versions seen, then PASS/FAIL against the uptime target.
Exit status: 0 pass, 1 fail (or no data), 69 (EX_UNAVAILABLE) Prometheus
unreachable or refusing the query (one line on stderr); exitcodes.TABLE.

Uptime is measured on a grid of ``--step`` (the 15 s scrape interval): at each
step an instance counts as up when its last scrape succeeded (``up`` 1) *and*
reported ``bot_connected`` 1. A failed scrape counts as down, so a dead process
is downtime too. Steps with no sample at all (Prometheus itself down, target
not configured yet) are not counted either way; "coverage" says how many
steps had data.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import exitcodes
from .fetch import Unreachable, get_json

DEFAULT_URL = "http://127.0.0.1:9090"
EX_PASS, EX_FAIL, EX_UNREACHABLE = exitcodes.OK, exitcodes.FAILURE, exitcodes.EX_UNAVAILABLE
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Prometheus-style durations: 24h, 7d, 1h30m, 90s -> seconds."""
    parts = re.findall(r"(\d+)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text or sum(int(n) for n, _ in parts) == 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (use e.g. 24h, 7d, 1h30m)")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def parse_time(text: str) -> float:
    """Unix seconds or RFC 3339 (2024-05-01T10:00:00Z)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad time {text!r} (unix seconds or RFC 3339)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class Prometheus:
    def __init__(self, url: str, timeout: float = 10.0):
        self.url, self.timeout = url.rstrip("/"), timeout

    def query(self, expr: str, at: float) -> list[dict]:
        """The query's result; Unreachable when Prometheus does not answer or refuses it."""
        params = {"query": expr, "time": f"{at:.3f}"}
        body = get_json(f"{self.url}/api/v1/query", "Prometheus", self.timeout, params)
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error", "query failed") if isinstance(body, dict) else "not Prometheus' HTTP API"
            raise Unreachable(f"Prometheus at {self.url}: {error}")
        return body["data"]["result"]


@dataclass
class Instance:
    name: str
    env: str
    connected_steps: float = 0.0
    observed_steps: float = 0.0
    errors: float = 0.0
    restarts: int = 0
    versions: set[str] = field(default_factory=set)

    @property
    def uptime(self) -> float:
        return 100.0 * self.connected_steps / self.observed_steps if self.observed_steps else 0.0


@dataclass
class Report:
    start: float
    end: float
    period: int
    step: int
    env: str | None
    target: float
    instances: dict[tuple[str, str], Instance]

    @property
    def expected_steps(self) -> int:
        return self.period // self.step

    @property
    def uptime(self) -> float:
        observed = sum(i.observed_steps for i in self.instances.values())
        connected = sum(i.connected_steps for i in self.instances.values())
        return 100.0 * connected / observed if observed else 0.0

    @property
    def errors(self) -> float:
        return sum(i.errors for i in self.instances.values())

    @property
    def restarts(self) -> int:
        return sum(i.restarts for i in self.instances.values())

    @property
    def versions(self) -> list[str]:
        return sorted(set().union(*(i.versions for i in self.instances.values())))

    def failing(self) -> list[Instance]:
        return [i for i in self.instances.values() if i.uptime < self.target]


def collect(prom: Prometheus, end: float, period: int, step: int, env: str | None, job: str, target: float) -> Report:
    sel = f'job="{job}"' + (f',env="{env}"' if env else "")
    rng = f"{period}s"
    # Subquery grid (end - period, end]: one ms short, so Prometheus 2.x (closed range)
    # and 3.x (left-open) both give period/step points.
    grid = f"{period * 1000 - 1}ms:{step}s"
    # 1 when the last scrape worked and said connected; 0 when it failed or said disconnected.
    connected = f"(bot_connected{{{sel}}} * up{{{sel}}}) or (up{{{sel}}} * 0)"
    instances: dict[tuple[str, str], Instance] = {}

    def each(expr: str):
        for r in prom.query(expr, end):
            key = (r["metric"].get("instance", "?"), r["metric"].get("env", ""))
            inst = instances.setdefault(key, Instance(*key))
            yield inst, r["metric"], float(r["value"][1])

    for inst, _, v in each(f"sum_over_time(({connected})[{grid}])"):
        inst.connected_steps = v
    for inst, _, v in each(f"count_over_time(({connected})[{grid}])"):
        inst.observed_steps = v
    for inst, _, v in each(f"increase(bot_errors_total{{{sel}}}[{rng}])"):
        inst.errors = v
    for inst, _, v in each(f"resets(bot_uptime_seconds{{{sel}}}[{rng}])"):
        inst.restarts = int(v)
    for inst, metric, _ in each(f"count by (instance, env, version) (count_over_time(bot_build_info{{{sel}}}[{rng}]))"):
        inst.versions.add(metric.get("version", "?"))
    return Report(end - period, end, period, step, env, target, instances)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: int) -> str:
    # Whole days from 2d on, else hours: 24h reads better than 1d.
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and (unit != "d" or seconds >= 2 * 86400):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render(rep: Report, job: str) -> str:
    hours = rep.period / 3600
    lines = [
        f"rosey-bot report, job {job}, env {rep.env or 'all'}",
        f"period:    {_when(rep.start)} .. {_when(rep.end)} ({_span(rep.period)})",
        f"uptime:    {rep.uptime:.3f} % (target {rep.target:g} %)",
        f"errors:    {rep.errors:.0f} ({rep.errors / rep.period:.5f}/s, {rep.errors / hours:.2f}/h)",
        f"restarts:  {rep.restarts}",
        f"versions:  {', '.join(rep.versions) or '-'}",
        "instances:",
    ]
    for inst in sorted(rep.instances.values(), key=lambda i: (i.env, i.name)):
        coverage = 100.0 * inst.observed_steps / rep.expected_steps
        lines.append(
            f"  {inst.name} env={inst.env}: uptime {inst.uptime:.3f} %, coverage {coverage:.1f} %, "
            f"errors {inst.errors:.0f}, restarts {inst.restarts}, versions {', '.join(sorted(inst.versions)) or '-'}"
        )
    failing = rep.failing()
    if failing:
        worst = min(failing, key=lambda i: i.uptime)
        lines.append(f"result:    FAIL ({worst.name} uptime {worst.uptime:.3f} % < target {rep.target:g} %)")
    else:
        lines.append(f"result:    PASS (every instance at least {rep.target:g} %)")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = exitcodes.CommandParser(prog="rosey-report", description="Uptime/error/restart report from Prometheus.")
    p.add_argument("--prometheus", default=DEFAULT_URL, metavar="URL", help=f"default {DEFAULT_URL}")
    p.add_argument("--period", type=parse_duration, default=parse_duration("24h"), help="e.g. 24h, 7d (default 24h)")
    p.add_argument("--end", type=parse_time, default=None, help="end of the period: unix seconds or RFC 3339")
    p.add_argument("--env", default=None, help="only this env (default: all)")
    p.add_argument("--job", default="rosey-bot", help="scrape job (default rosey-bot)")
    p.add_argument("--target", type=float, default=99.9, help="uptime target in %% (default 99.9)")
    p.add_argument("--step", type=parse_duration, default=15, help="uptime resolution (default 15s)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    end = args.end if args.end is not None else time.time()
    try:
        rep = collect(Prometheus(args.prometheus), end, args.period, args.step, args.env, args.job, args.target)
    except Unreachable as exc:
        print(f"rosey-report: {exc}", file=sys.stderr)
        return EX_UNREACHABLE
    if not any(i.observed_steps for i in rep.instances.values()):
        scope = f"job {args.job}" + (f", env {args.env}" if args.env else "")
        print(f"rosey-report: FAIL: Prometheus at {args.prometheus} has no data for {scope} in the period")
        return EX_FAIL
    print(render(rep, args.job))
    return EX_FAIL if rep.failing() else EX_PASS


if __name__ == "__main__":
    sys.exit(main())

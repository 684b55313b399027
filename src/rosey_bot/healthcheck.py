"""``rosey-healthcheck``: poll /api/health until it answers as wanted or a deadline passes.

Liveness (default): the endpoint answers with the health JSON (200 or 503).
``--ready``: additionally the bot must be connected (HTTP 200).
``--expect-version V``: the running process must report version V.
Exit 0 on success; otherwise one line saying what was last seen, and 69
(EX_UNAVAILABLE) when nothing answered at all, 1 when something answered but
not as asked (exitcodes.TABLE).
"""

from __future__ import annotations

import argparse
import sys
import time

from . import config as config_mod
from . import exitcodes, fetch
from .health_contract import HEALTH_PATH


def _default_url(config_path: str) -> str:
    """The [health] address of the config (its layers included), else the default's."""
    try:
        health = config_mod.load(config_path, secrets=False).health
    except config_mod.ConfigError:
        health = config_mod.HealthConfig()
    return health.url + HEALTH_PATH


def probe(url: str, timeout: float) -> tuple[int | None, dict | None, str]:
    """One request: (HTTP status, parsed body, problem text)."""
    try:
        answer = fetch.get(url, "health endpoint", timeout)
    except fetch.Unreachable as exc:
        return None, None, str(exc)
    try:
        body = answer.json()
    except fetch.Unreachable:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        return answer.status, None, f"{answer.where} answered HTTP {answer.status} without health JSON"
    return answer.status, body, ""


def judge(status: int | None, body: dict | None, problem: str, args) -> str:
    """Empty string when the answer satisfies the request, else what is wrong."""
    if body is None:
        return problem
    if args.expect_version and body.get("version") != args.expect_version:
        return f"running version is {body.get('version')!r}, expected {args.expect_version!r}"
    if args.ready and (status != 200 or not body.get("connected")):
        return f"not ready: status={body.get('status')!r} connected={body.get('connected')!r} (HTTP {status})"
    return ""


def main(argv: list[str] | None = None) -> int:
    p = exitcodes.CommandParser(prog="rosey-healthcheck", description=__doc__.splitlines()[0])
    p.add_argument("--url", help="health URL (default: from the config's [health] section)")
    p.add_argument("--config", default=str(config_mod.DEFAULT_PATH), help="config file to read the address from")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="keep polling up to SECONDS")
    p.add_argument("--expect-version", metavar="V", help="require the running version to be V")
    p.add_argument("--ready", action="store_true", help="require the bot to be connected (HTTP 200)")
    p.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    args = p.parse_args(argv)
    url = args.url or _default_url(args.config)
    deadline = time.monotonic() + max(0.0, args.wait)
    while True:
        status, body, problem = probe(url, timeout=min(3.0, max(0.5, args.wait or 3.0)))
        problem = judge(status, body, problem, args)
        if not problem:
            if not args.quiet:
                print(f"rosey-healthcheck: ok: version {body['version']} status {body['status']}")
            return 0
        if time.monotonic() + args.interval > deadline:
            waited = f" after {args.wait:g}s" if args.wait else ""
            print(f"rosey-healthcheck: FAILED{waited}: {problem}", file=sys.stderr)
            # No HTTP status at all: no process listens there, or the address is wrong.
            return exitcodes.EX_UNAVAILABLE if status is None else exitcodes.FAILURE
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())

"""``rosey-dashboard``: serve the dashboard with waitress on [dashboard] host:port (127.0.0.1:5000).

``--export-config TARGET`` writes the config it would use (every layer, secrets dropped)
to TARGET instead: rosey-dashboard.service runs that as root before starting it.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from pathlib import Path

from .. import exitcodes, listen, logsetup
from ..config import DEFAULT_PATH, Config, ConfigError, load
from . import snapshot

log = logging.getLogger("rosey_bot.dashboard")


def load_config(path: Path) -> Config:
    """The bot's config (the same loader and layers as the bot), minus its secrets: never read or held."""
    return load(path, secrets=False)


def export_config(main: Path, target: Path) -> int:
    """``--export-config``: 0 written; 78 a bad config (no copy left); 1 not writable."""
    try:
        snapshot.export(main, target)
    except ConfigError as exc:
        logsetup.error_line(f"rosey-dashboard: {exc}")
        return exitcodes.EX_CONFIG
    except OSError as exc:
        logsetup.error_line(f"rosey-dashboard: cannot write {target}: {exc.strerror or exc}")
        return exitcodes.FAILURE
    return exitcodes.OK


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
    return port


def _listening_server(app, config: Config, host: str, port: int, from_args):
    """waitress bound to host:port, or a ConfigError naming the setting to change."""
    from waitress.server import create_server

    def error(exc: listen.ListenError) -> ConfigError:
        flag = f"--{exc.key}"
        if getattr(from_args, exc.key) is not None:
            return ConfigError("command line", flag, exc.problem)
        return ConfigError(config.path, f"dashboard.{exc.key}", exc.problem)

    try:
        listen.resolve(host, port)
        # 8 threads: each refresh of the page asks for its four API routes at once.
        return create_server(app, host=host, port=port, threads=8, ident="rosey-dashboard")
    except listen.ListenError as exc:
        raise error(exc) from None
    except OSError as exc:
        raise error(listen.explain(exc, host, port)) from None


def main(argv: list[str] | None = None) -> int:
    ap = exitcodes.CommandParser(prog="rosey-dashboard", description=__doc__)
    ap.add_argument("--config", type=Path, default=DEFAULT_PATH, help=f"config file (default {DEFAULT_PATH})")
    ap.add_argument("--host", help="listen address (default: [dashboard] host, 127.0.0.1)")
    ap.add_argument("--port", type=_port, help="listen port (default: [dashboard] port, 5000)")
    ap.add_argument(
        "--export-config",
        type=Path,
        metavar="TARGET",
        help="write the [health] and [dashboard] settings of --config and the files beside it "
        "(secrets dropped) to TARGET as TOML, then exit; the systemd unit runs this as root and "
        "starts the dashboard with --config TARGET",
    )
    args = ap.parse_args(argv)
    if args.export_config:
        if args.host or args.port is not None:
            ap.error("--host and --port are for serving, not with --export-config")
        return export_config(args.config, args.export_config)
    logsetup.setup(logging.INFO)
    from .app import create_app

    try:
        config = load_config(args.config)
        host = args.host or config.dashboard.host
        port = config.dashboard.port if args.port is None else args.port
        # A busy port or a bad address will not fix itself: exit 78, no restart loop.
        server = _listening_server(create_app(config), config, host, port, args)
    except ConfigError as exc:
        logsetup.error_line(f"rosey-dashboard: {exc}")
        return exitcodes.EX_CONFIG
    if not _is_loopback(host):
        # The page has no login; anyone who can reach it sees the bot's state.
        log.warning("listening on %s, not loopback: put access control in front of it", host)
    server.print_listen("Serving on http://{}:{}")
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

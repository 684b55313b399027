"""``rosey-dashboard``: serve the dashboard with waitress on [dashboard] host:port (127.0.0.1:5000)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
import tomllib
from pathlib import Path

from ..config import DEFAULT_PATH, EX_CONFIG, Config, ConfigError, parse

log = logging.getLogger("rosey_bot.dashboard")


def load_config(path: Path) -> Config:
    """The bot's config file, minus its secrets: the dashboard never reads or holds them."""
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"TOML syntax error: {exc}") from None
    if isinstance(data.get("server"), dict):
        data["server"].pop("channel_password", None)
    if isinstance(data.get("account"), dict):
        data["account"].pop("password_file", None)
    return parse(data, path)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="rosey-dashboard", description=__doc__)
    ap.add_argument("--config", type=Path, default=DEFAULT_PATH, help=f"config file (default {DEFAULT_PATH})")
    ap.add_argument("--host", help="listen address (default: [dashboard] host, 127.0.0.1)")
    ap.add_argument("--port", type=int, help="listen port (default: [dashboard] port, 5000)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"rosey-dashboard: {exc}", file=sys.stderr)
        return EX_CONFIG
    host = args.host or config.dashboard.host
    port = config.dashboard.port if args.port is None else args.port
    if not _is_loopback(host):
        # The page has no login; anyone who can reach it sees the bot's state.
        log.warning("listening on %s, not loopback: put access control in front of it", host)

    from waitress import serve

    from .app import create_app

    # 8 threads: each refresh of the page asks for its four API routes at once.
    serve(create_app(config), host=host, port=port, threads=8, ident="rosey-dashboard")
    return 0


if __name__ == "__main__":
    sys.exit(main())

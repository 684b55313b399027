"""``rosey-bot``: run the bot, or check its configuration.

Exit status 78 (EX_CONFIG) on any configuration problem, with one line
naming the file, the key and what is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from . import config as config_mod
from . import listen
from .bot import runner
from .http.health import HealthServer, create_app
from .state import BotState
from .storage import StorageError
from .storage import commands as storage_commands
from .version import installed_version

log = logging.getLogger("rosey_bot")


def _config_error(exc: config_mod.ConfigError) -> int:
    print(f"rosey-bot: config error: {exc}", file=sys.stderr)
    return config_mod.EX_CONFIG


def _load(path: str) -> config_mod.Config:
    try:
        return config_mod.load(path)
    except config_mod.ConfigError as exc:
        raise SystemExit(_config_error(exc)) from None


def _listen_error(cfg: config_mod.Config, section: str, exc: listen.ListenError) -> config_mod.ConfigError:
    return config_mod.ConfigError(cfg.path, f"{section}.{exc.key}", exc.problem)


def cmd_check_config(args) -> int:
    try:
        cfg, merged = config_mod.load_layered(args.config)
    except config_mod.ConfigError as exc:
        raise SystemExit(_config_error(exc)) from None
    if args.sources:
        # Which file each effective value came from (docs/DESIGN.md, Config layers).
        print("\n".join(config_mod.effective_lines(cfg, merged)))
    # What start-up would trip over, short of taking the ports (the running services hold them).
    for section in ("health", "dashboard"):
        where = getattr(cfg, section)
        try:
            listen.check(where.host, where.port)
        except listen.ListenError as exc:
            return _config_error(_listen_error(cfg, section, exc))
    if args.require_server and not cfg.configured:
        print(f"rosey-bot: {cfg.path}: server.url and server.channel are not set yet", file=sys.stderr)
        return config_mod.EX_CONFIG
    if not args.quiet:
        state = "configured" if cfg.configured else "valid, but no server/channel set yet"
        print(f"rosey-bot: {cfg.path}: {state}")
    return 0


def cmd_run(args) -> int:
    cfg = _load(args.config)
    if not cfg.configured:
        print(
            f"rosey-bot: config error: {cfg.path}: server.url: not set; name the CyTube server "
            "and channel ([server] url, channel), then start the service",
            file=sys.stderr,
        )
        return config_mod.EX_CONFIG
    logging.basicConfig(level=cfg.log.level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    state = BotState(installed_version(), cfg.server.channel, cfg.bot.error_window_seconds)
    try:
        server = _health_server(cfg, state)
    except listen.ListenError as exc:
        # A port or address that does not work will not start working on a restart.
        return _config_error(_listen_error(cfg, "health", exc))
    server.start()
    log.info("rosey-bot %s starting for channel %s", state.version, cfg.server.channel)
    try:
        asyncio.run(_main(cfg, state))
    except StorageError as exc:
        # Unreadable, foreign or unmigratable database: one line, no traceback.
        print(f"rosey-bot: database error: {cfg.database.path}: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    log.info("rosey-bot stopped")
    return 0


def _health_server(cfg: config_mod.Config, state: BotState) -> HealthServer:
    host, port = cfg.health.host, cfg.health.port
    # One numeric address: a name like "localhost" may resolve to 127.0.0.1 and ::1.
    address = listen.numeric_host(host, port)
    try:
        return HealthServer(create_app(state, cfg.bot.degraded_error_rate), address, port)
    except OSError as exc:
        raise listen.explain(exc, address, port) from None


async def _main(cfg: config_mod.Config, state: BotState) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runner.run(cfg, state, stop)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rosey-bot", description="CyTube chat bot")
    p.add_argument("--config", "-c", default=str(config_mod.DEFAULT_PATH), help="config file (TOML)")
    p.add_argument("--version", action="version", version=f"rosey-bot {installed_version()}")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    check = sub.add_parser("check-config", help="validate the config and exit")
    check.add_argument("--require-server", action="store_true", help="fail unless server and channel are set")
    check.add_argument("--quiet", "-q", action="store_true")
    check.add_argument("--sources", action="store_true", help="list every key, its value and the file it came from")
    storage_commands.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check-config":
        return cmd_check_config(args)
    if args.command in storage_commands.COMMANDS:
        return storage_commands.run(args, _load(args.config))
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())

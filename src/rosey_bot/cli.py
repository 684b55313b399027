"""``rosey-bot``: run the bot, or check its configuration.

Exit status 78 (EX_CONFIG) on any configuration problem, with one line
naming the file, the key and what is wrong; the other statuses are in
exitcodes.TABLE.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import sys
from typing import TYPE_CHECKING

from . import config as config_mod
from . import exitcodes, listen, logsetup
from .storage import commands as storage_commands

if TYPE_CHECKING:
    from .http.health import HealthServer
    from .state import BotState

# The bot itself (asyncio, websockets, requests, flask) is imported by `run` only: check-config,
# the storage commands and --version run in every package configure and must start quickly.

log = logging.getLogger("rosey_bot")


def _config_error(exc: config_mod.ConfigError) -> int:
    logsetup.error_line(f"rosey-bot: config error: {exc}")
    return exitcodes.EX_CONFIG


def _load(path: str) -> config_mod.Config:
    try:
        return config_mod.load(path)
    except config_mod.ConfigError as exc:
        raise SystemExit(_config_error(exc)) from None


def _listen_error(cfg: config_mod.Config, section: str, exc: listen.ListenError) -> config_mod.ConfigError:
    return config_mod.ConfigError(cfg.path, f"{section}.{exc.key}", exc.problem)


def _load_as(user: str, path: str) -> int:
    """Load the config in a child running as ``user`` (with its groups): 0, or 78 after one line.

    check-config runs as root in the package scripts; root reads a password
    file the service user cannot, and the service would then exit 78 on start.
    """
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        print(f"rosey-bot: check-config: --user {user}: no such user", file=sys.stderr)
        return exitcodes.EX_USAGE
    if os.geteuid() != 0 and os.geteuid() != account.pw_uid:
        print(f"rosey-bot: check-config: --user {user}: only root can check as another user", file=sys.stderr)
        return exitcodes.EX_USAGE
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: drop to the user, load, report through the exit status
        code = 0
        try:
            os.setgroups(os.getgrouplist(user, account.pw_gid))
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            config_mod.load(path)
        except config_mod.ConfigError as exc:
            code = _config_error(config_mod.ConfigError(exc.path, exc.key, f"{exc.problem} (as user {user})"))
        except BaseException as exc:  # the child must never return into the parent's code
            print(f"rosey-bot: check-config: as user {user}: {exc}", file=sys.stderr)
            code = exitcodes.FAILURE
        sys.stderr.flush()
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def cmd_check_config(args) -> int:
    try:
        cfg, merged = config_mod.load_layered(args.config)
    except config_mod.ConfigError as exc:
        raise SystemExit(_config_error(exc)) from None
    if args.user:
        code = _load_as(args.user, args.config)
        if code:
            return code
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
        logsetup.error_line(f"rosey-bot: {cfg.path}: server.url and server.channel are not set yet")
        return exitcodes.EX_CONFIG
    if not args.quiet:
        state = "configured" if cfg.configured else "valid, but no server/channel set yet"
        print(f"rosey-bot: {cfg.path}: {state}")
    return 0


def cmd_run(args) -> int:
    import asyncio

    from .state import BotState
    from .storage import StorageError
    from .version import installed_version

    cfg = _load(args.config)
    if not cfg.configured:
        logsetup.error_line(
            f"rosey-bot: config error: {cfg.path}: server.url: not set; name the CyTube server "
            "and channel ([server] url, channel), then start the service"
        )
        return exitcodes.EX_CONFIG
    logsetup.setup(cfg.log.level)
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
        logsetup.error_line(f"rosey-bot: database error: {cfg.database.path}: {exc}")
        return exitcodes.FAILURE
    finally:
        server.stop()
    log.info("rosey-bot stopped")
    return 0


def _health_server(cfg: config_mod.Config, state: BotState) -> HealthServer:
    from .http.health import HealthServer, create_app

    host, port = cfg.health.host, cfg.health.port
    # One numeric address: a name like "localhost" may resolve to 127.0.0.1 and ::1.
    address = listen.numeric_host(host, port)
    try:
        return HealthServer(create_app(state, cfg.bot.degraded_error_rate), address, port)
    except OSError as exc:
        raise listen.explain(exc, address, port) from None


async def _main(cfg: config_mod.Config, state: BotState) -> None:
    import asyncio
    import signal

    from .bot import runner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runner.run(cfg, state, stop)


def build_parser() -> argparse.ArgumentParser:
    p = exitcodes.CommandParser(prog="rosey-bot", description="CyTube chat bot")
    p.add_argument("--config", "-c", default=str(config_mod.DEFAULT_PATH), help="config file (TOML)")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    check = sub.add_parser("check-config", help="validate the config and exit")
    check.add_argument("--require-server", action="store_true", help="fail unless server and channel are set")
    check.add_argument("--quiet", "-q", action="store_true")
    check.add_argument("--sources", action="store_true", help="list every key, its value and the file it came from")
    check.add_argument(
        "--user", metavar="NAME", help="also check that NAME (the service's user, rosey-bot) can read every file"
    )
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

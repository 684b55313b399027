"""What the package's debconf scripts ask the installed bot (``python -m rosey_bot.answers``).

The debconf config script and postinst are shell; the rules they need live
here, in the bot's own code, so each rule has one owner (docs/DESIGN.md,
First run with debconf):

  owners [--config P]    one "KEY PATH" line for each asked KEY an operator's file sets (debconf's
                         answer for it would be overridden); exit 0. The config script's first call:
                         it also tells that this module is here to answer (an older bot has none)
  check KEY              the answer on stdin is valid for KEY (exit 0), or is not (exit 3, the reason on stdout)
  ping, owner KEY        what older config scripts ask instead of owners (a downgrade's preconfigure
                         runs the older script against this bot): exit 0; the one path or exit 1
  current KEY [--config P] the value debconf's layer now holds for KEY (empty if none)
  write PATH             write debconf's own layer from ROSEY_URL, ROSEY_CHANNEL, ROSEY_ACCOUNT,
                         ROSEY_PASSWORD_FILE (environment); remove it when nothing is set
  probe [--config P]     the configured CyTube server answers for the channel (exit 0), or
                         one line on stdout saying what to check (exit 3)

Exit 3 means "refused"; any other failure (2 for usage) means "cannot tell",
which the scripts treat as "ask nothing now" so an old bot never blocks them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from . import config, layers

REFUSED = 3
# The keys debconf asks for, and nothing else: debconf never writes any other key.
ASKED = ("server.url", "server.channel", "account.name", "account.password_file")


def check(key: str, value: str) -> str | None:
    """Why ``value`` is refused for ``key`` (None when valid), by the same rules the config file obeys."""
    section, _, name = key.partition(".")
    _type, rule = config.SCHEMA[section][1][name]
    if not value.isprintable():
        return "must be one line of printable characters"
    return rule(value) if rule else None


def owners(main: Path, keys: tuple[str, ...] = ASKED) -> dict[str, Path]:
    """The operator's file that sets each of ``keys`` (their files win over debconf's layer; of
    several, the last read wins, as in the config). Each file is read once for all keys."""
    tables = []
    for path in [main, *layers.dropin_paths(main)]:
        try:
            tables.append((path, config.read_toml(path)))
        except config.ConfigError:
            continue  # a broken file is reported by check-config, not here
    found = {}
    for key in keys:
        section, _, name = key.partition(".")
        for path, table in tables:
            if isinstance(table.get(section), dict) and name in table[section]:
                found[key] = path
    return found


def owner(key: str, main: Path) -> Path | None:
    """The operator's file that sets ``key``, if any."""
    return owners(main, (key,)).get(key)


def current(key: str, main: Path) -> str:
    """The value debconf's own layer holds for ``key``: what a refused answer falls back to."""
    section, _, name = key.partition(".")
    try:
        table = config.read_toml(layers.base_path(main))
    except config.ConfigError:
        return ""
    value = table.get(section, {}).get(name, "") if isinstance(table.get(section), dict) else ""
    return value if isinstance(value, str) else ""


def layer_text(url: str, channel: str, account: str, password_file: str) -> str:
    """debconf's layer as TOML; empty when no answer sets anything."""
    server = {"url": url, "channel": channel} if url and channel else {}
    account_keys = {"name": account} if account else {}
    if account and password_file:
        account_keys["password_file"] = password_file
    out = []
    for section, keys in (("server", server), ("account", account_keys)):
        if keys:
            out.append(f"[{section}]")
            # A JSON string is a valid TOML basic string (quotes and escapes included).
            out += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
            out.append("")
    if not out:
        return ""
    header = (
        "# Written by the rosey-bot package from your debconf answers; do not edit.\n"
        f"# Change them with: dpkg-reconfigure {package()}\n"
        "# Any key set in config.toml or conf.d/*.toml wins over this file.\n\n"
    )
    return header + "\n".join(out)


def package() -> str:
    """The flavour's package that asked the questions (rosey-bot or rosey-bot-native): dpkg names it
    to the maintainer scripts that run us; debconf knows the questions under that name."""
    return os.environ.get("DPKG_MAINTSCRIPT_PACKAGE") or "rosey-bot"


def write_layer(path: Path, text: str) -> None:
    """Replace ``path`` atomically (a reader sees the old file or the new one), 0640; remove it if ``text`` is empty."""
    if not text:
        path.unlink(missing_ok=True)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".debconf-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        # The directory's group (rosey-bot in /etc/rosey-bot): the service reads it as that group.
        os.chown(tmp, -1, path.parent.stat().st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def probe(main: Path) -> str | None:
    """None when the configured server answers discovery for the channel, else one line saying what to check."""
    import asyncio

    from .bot.discovery import DiscoveryError, discover

    cfg, merged = config.load_layered(main)
    if not cfg.configured:
        return None
    try:
        asyncio.run(discover(cfg.server.url, cfg.server.channel, cfg.bot.response_timeout))
        return None
    except DiscoveryError as exc:
        where = merged.origin.get("server.url", main)
        fix = (
            f"then: dpkg-reconfigure {package()}"
            if where == layers.base_path(main)
            else f"then fix server.url/server.channel in {where} and: systemctl restart rosey-bot"
        )
        return (
            f"rosey-bot: warning: CyTube server {cfg.server.url} does not answer for channel "
            f"{cfg.server.channel!r} ({exc}); check the address and that the server is up, {fix}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rosey_bot.answers")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("ping")
    p_check = sub.add_parser("check")
    p_check.add_argument("key", choices=ASKED[:3])
    for name in ("owners", "owner", "current", "probe"):
        p = sub.add_parser(name)
        if name in ("owner", "current"):
            p.add_argument("key", choices=ASKED)
        p.add_argument("--config", type=Path, default=config.DEFAULT_PATH)
    p_write = sub.add_parser("write")
    p_write.add_argument("path", type=Path)
    args = ap.parse_args(argv)

    if args.command == "ping":
        return 0
    if args.command == "check":
        problem = check(args.key, sys.stdin.read().rstrip("\n"))
        if problem:
            print(config.one_line(problem))
            return REFUSED
        return 0
    if args.command == "owners":
        for key, path in owners(args.config).items():
            print(key, path)
        return 0
    if args.command == "owner":
        found = owner(args.key, args.config)
        if found is None:
            return 1
        print(found)
        return 0
    if args.command == "current":
        print(current(args.key, args.config))
        return 0
    if args.command == "write":
        env = os.environ
        text = layer_text(
            env.get("ROSEY_URL", ""),
            env.get("ROSEY_CHANNEL", ""),
            env.get("ROSEY_ACCOUNT", ""),
            env.get("ROSEY_PASSWORD_FILE", ""),
        )
        write_layer(args.path, text)
        return 0
    try:
        line = probe(args.config)
    except config.ConfigError as exc:
        line = f"rosey-bot: config error: {exc}"
    if line:
        print(line)
        return REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main())

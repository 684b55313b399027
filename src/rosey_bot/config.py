"""Configuration: one TOML file, validated completely before anything starts.

Every problem is reported as one line naming the file, the key and what is
wrong; the caller exits with 78 (EX_CONFIG) so systemd does not restart-loop.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import stat
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layers
from .exitcodes import EX_CONFIG as EX_CONFIG  # re-exported for callers of config
from .protocol.discovery import CHANNEL_RULE, valid_channel

DEFAULT_PATH = Path("/etc/rosey-bot/config.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A config is a few KB and a password a few bytes: a bigger file is a mistake
# (or /dev/zero), and reading it whole would eat the memory of the host.
MAX_CONFIG_BYTES = 1 << 20
MAX_SECRET_BYTES = 4096
MAX_STRING = 4096
SHOWN_KEY = 60  # characters of an unknown key quoted in a message


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped: a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ConfigError(Exception):
    """A configuration problem, already phrased for the operator (always one line)."""

    def __init__(self, path: Path | str, key: str | None, problem: str):
        self.path, self.key, self.problem = str(path), key, problem
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(one_line(where + problem))


def _shown(key: str) -> str:
    # An unknown key comes from the file: it may be long or hold a newline.
    return key if len(key) <= SHOWN_KEY else key[:SHOWN_KEY] + "..."


@dataclass(frozen=True)
class ServerConfig:
    url: str = ""
    channel: str = ""
    channel_password: str = field(default="", repr=False)


@dataclass(frozen=True)
class AccountConfig:
    name: str = ""
    password_file: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class BotConfig:
    response_timeout: float = 3.0
    command_prefix: str = "!"
    degraded_error_rate: float = 0.1  # errors per second over the window
    error_window_seconds: float = 300.0
    # Reconnects: capped exponential backoff with full jitter, and never more
    # connects than the server's per-IP bucket (5, refilled 1 per 10 s) allows.
    reconnect_min_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    connect_burst: int = 5
    connect_interval: float = 10.0


@dataclass(frozen=True)
class HealthConfig:
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def url(self) -> str:
        """Where a client on this machine reaches the health server (``/api/health`` is below it).

        A wildcard bind (0.0.0.0, ::) listens on loopback too, and is reached there.
        """
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = "/var/lib/rosey-bot/rosey.db"
    backup_dir: str = ""  # empty: "backups" beside the database
    backup_keep: int = 5


@dataclass(frozen=True)
class LogConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class DashboardConfig:
    """rosey-dashboard (docs/DESIGN.md, Dashboard): loopback by default, reads upstreams over loopback."""

    host: str = "127.0.0.1"
    port: int = 5000
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    bot_health_url: str = ""  # empty: derived from [health]; see Config.bot_health_url
    dpkg_log: str = "/var/log/dpkg.log"
    refresh_seconds: int = 15


@dataclass(frozen=True)
class Config:
    server: ServerConfig = ServerConfig()
    account: AccountConfig = AccountConfig()
    bot: BotConfig = BotConfig()
    health: HealthConfig = HealthConfig()
    database: DatabaseConfig = DatabaseConfig()
    log: LogConfig = LogConfig()
    dashboard: DashboardConfig = DashboardConfig()
    path: str = ""

    @property
    def bot_health_url(self) -> str:
        """Where the dashboard finds the bot: [dashboard] bot_health_url, else [health]'s address."""
        return self.dashboard.bot_health_url.rstrip("/") or self.health.url

    @property
    def configured(self) -> bool:
        """A fresh install ships a config that names no server yet."""
        return bool(self.server.url and self.server.channel)


# section -> key -> (type, validator or None)
def _positive_timeout(v: float) -> str | None:
    return None if 0 < v <= 60 and math.isfinite(v) else "must be > 0 and <= 60"


def _port(v: int) -> str | None:
    return None if 1 <= v <= 65535 else "must be between 1 and 65535"


def _url(v: str) -> str | None:
    if v and not v.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    return None


def _channel(v: str) -> str | None:
    if v and not valid_channel(v):
        return f"must be {CHANNEL_RULE}"
    return None


def _account_name(v: str) -> str | None:
    if v and not re.fullmatch(r"[a-zA-Z0-9_-]{1,20}", v):
        return "must be 1-20 characters of a-z, A-Z, 0-9, '_' or '-'"
    return None


def _listen_host(v: str) -> str | None:
    if not v:
        return "must not be empty (0.0.0.0 or :: listens on every address)"
    try:
        ipaddress.ip_address(v)
        return None
    except ValueError:
        pass
    # A name must at least look like one; whether it resolves is checked by
    # `rosey-bot check-config` and at start-up (it may need the network).
    labels = v.rstrip(".").split(".")
    if len(v) > 253 or not all(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", x) for x in labels):
        return "must be an IP address (such as 127.0.0.1) or a host name"
    return None


def _absolute(v: str) -> str | None:
    # The service runs from / under ProtectSystem=strict: a relative path is never writable.
    return None if not v or os.path.isabs(v) else "must be an absolute path (starting with /)"


def _prefix(v: str) -> str | None:
    return None if 1 <= len(v) <= 3 and not v.isspace() else "must be 1-3 non-space characters"


def _level(v: str) -> str | None:
    return None if v.upper() in LOG_LEVELS else f"must be one of {', '.join(LOG_LEVELS)}"


def _non_negative(v: float) -> str | None:
    return None if v >= 0 and math.isfinite(v) else "must be >= 0"


def _positive(v: float) -> str | None:
    return None if v > 0 and math.isfinite(v) else "must be > 0"


def _delay(v: float) -> str | None:
    return None if 0 < v <= 3600 and math.isfinite(v) else "must be > 0 and <= 3600"


def _connect_burst(v: int) -> str | None:
    return None if 1 <= v <= 5 else "must be between 1 and 5 (the server allows 5 quick connects per IP)"


def _refresh(v: int) -> str | None:
    return None if 2 <= v <= 3600 else "must be between 2 and 3600"


def _keep(v: int) -> str | None:
    return None if 1 <= v <= 1000 else "must be between 1 and 1000"


SCHEMA: dict[str, tuple[type, dict[str, tuple[type, Any]]]] = {
    "server": (
        ServerConfig,
        {"url": (str, _url), "channel": (str, _channel), "channel_password": (str, None)},
    ),
    "account": (AccountConfig, {"name": (str, _account_name), "password_file": (str, None)}),
    "bot": (
        BotConfig,
        {
            "response_timeout": (float, _positive_timeout),
            "command_prefix": (str, _prefix),
            "degraded_error_rate": (float, _non_negative),
            "error_window_seconds": (float, _positive),
            "reconnect_min_delay": (float, _delay),
            "reconnect_max_delay": (float, _delay),
            "connect_burst": (int, _connect_burst),
            "connect_interval": (float, _delay),
        },
    ),
    "health": (HealthConfig, {"host": (str, _listen_host), "port": (int, _port)}),
    "database": (
        DatabaseConfig,
        {"path": (str, _absolute), "backup_dir": (str, _absolute), "backup_keep": (int, _keep)},
    ),
    "log": (LogConfig, {"level": (str, _level)}),
    "dashboard": (
        DashboardConfig,
        {
            "host": (str, _listen_host),
            "port": (int, _port),
            "prometheus_url": (str, _url),
            "alertmanager_url": (str, _url),
            "bot_health_url": (str, _url),
            "dpkg_log": (str, _absolute),
            "refresh_seconds": (int, _refresh),
        },
    ),
}


def _check_type(path: Path, key: str, value: Any, want: type) -> Any:
    # bool is an int in Python; a TOML `true` is never a valid number here.
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(path, key, "is far out of range") from None
    if isinstance(value, bool) or not isinstance(value, want):
        raise ConfigError(path, key, f"must be {want.__name__}, got {type(value).__name__}")
    return value


def parse(data: dict[str, Any], path: Path | str = "<config>") -> Config:
    path = Path(path)
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SCHEMA:
            raise ConfigError(path, _shown(name), f"unknown section (known: {', '.join(SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(path, name, "must be a table ([" + name + "])")
        cls, keys = SCHEMA[name]
        fields: dict[str, Any] = {}
        for key, raw in value.items():
            dotted = f"{name}.{key}"
            if key not in keys:
                raise ConfigError(path, _shown(dotted), "unknown key")
            want, check = keys[key]
            val = _check_type(path, dotted, raw, want)
            if want is str and "\x00" in val:
                raise ConfigError(path, dotted, "must not contain NUL characters")
            if want is str and len(val) > MAX_STRING:
                raise ConfigError(path, dotted, f"is longer than {MAX_STRING} characters")
            problem = check(val) if check else None
            if problem:
                raise ConfigError(path, dotted, problem)
            fields[key] = val
        sections[name] = fields
    server = ServerConfig(**sections.get("server", {}))
    if bool(server.url) != bool(server.channel):
        missing = "server.channel" if server.url else "server.url"
        raise ConfigError(path, missing, "is required when the other server key is set")
    account_fields = dict(sections.get("account", {}))
    account = AccountConfig(**account_fields)
    if account.password_file:
        if not account.name:
            raise ConfigError(path, "account.name", "is required when account.password_file is set")
        account = AccountConfig(
            name=account.name,
            password_file=account.password_file,
            password=_read_secret(path, "account.password_file", account.password_file),
        )
    log = LogConfig(**sections.get("log", {}))
    bot = BotConfig(**sections.get("bot", {}))
    if bot.reconnect_max_delay < bot.reconnect_min_delay:
        raise ConfigError(path, "bot.reconnect_max_delay", "must be >= bot.reconnect_min_delay")
    health = HealthConfig(**sections.get("health", {}))
    dashboard = DashboardConfig(**sections.get("dashboard", {}))
    if health.port == dashboard.port and _may_overlap(health.host, dashboard.host):
        # Whichever starts second would find its port taken.
        raise ConfigError(path, "dashboard.port", f"is health.port ({health.port}) too; each needs its own port")
    database = DatabaseConfig(**sections.get("database", {}))
    if os.path.isdir(database.path):
        raise ConfigError(path, "database.path", "is a directory; name the database file in it (rosey.db)")
    return Config(
        server=server,
        account=account,
        bot=bot,
        health=health,
        database=database,
        log=LogConfig(level=log.level.upper()),
        dashboard=dashboard,
        path=str(path),
    )


def _may_overlap(host_a: str, host_b: str) -> bool:
    """Could two listeners on these hosts (same port) collide? "::" takes IPv4 too (dual stack)."""

    def version(host: str) -> int | None:  # None: a name, which may resolve to IPv4
        try:
            return ipaddress.ip_address(host).version
        except ValueError:
            return None

    if host_a == host_b or "::" in (host_a, host_b):
        return True
    return any(x == "0.0.0.0" and version(y) != 6 for x, y in ((host_a, host_b), (host_b, host_a)))


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; OSError (with strerror) otherwise.

    O_NONBLOCK: opening a FIFO must not hang start-up waiting for a writer.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        if st.st_size > limit:
            raise OSError(0, f"larger than {limit} bytes ({st.st_size} bytes)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while we read it
            raise OSError(0, f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_secret(path: Path, key: str, secret_path: str) -> str:
    # systemd LoadCredential= puts secrets under $CREDENTIALS_DIRECTORY; a
    # relative password_file names a credential there.
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    target = Path(creds) / secret_path if creds and not os.path.isabs(secret_path) else Path(secret_path)
    try:
        secret = read_limited(target, MAX_SECRET_BYTES).decode("utf-8").strip()
    except OSError as exc:
        raise ConfigError(path, key, f"cannot read {target}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, key, f"{target} is not valid UTF-8") from None
    if not secret:
        raise ConfigError(path, key, f"{target} is empty")
    if not secret.isprintable():
        raise ConfigError(path, key, f"{target} must hold the password alone, on one line")
    return secret


def read_toml(path: Path | str) -> dict[str, Any]:
    """The parsed file, or a ConfigError saying in one line why it cannot be."""
    path = Path(path)
    try:
        raw = read_limited(path, MAX_CONFIG_BYTES)
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, None, "is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise ConfigError(path, None, "values are nested too deeply (this file holds flat tables)") from None
    except ValueError:  # an integer with more digits than Python converts
        limit = sys.get_int_max_str_digits()
        raise ConfigError(path, None, f"a number is out of range (more than {limit} digits)") from None


# Keys that hold a secret or name where one is read: a reader without secrets drops them unread.
SECRET_BEARING = ("server.channel_password", "account.password_file")


def load_layered(path: Path | str = DEFAULT_PATH, secrets: bool = True) -> tuple[Config, layers.Layered]:
    """The config of ``path`` and the files beside it (layers.py), and where each key came from.

    A problem is reported against the file that set the key, not the main file.
    ``secrets=False`` (the dashboard): the SECRET_BEARING keys are dropped before
    validation, so no password file is opened and no secret is held.
    """
    try:
        merged = layers.read(path, read_toml)
    except OSError as exc:  # conf.d exists but cannot be listed
        raise ConfigError(exc.filename or path, None, f"cannot read: {exc.strerror or exc}") from None
    data = merged.data if secrets else _without(merged.data, SECRET_BEARING)
    try:
        return parse(data, path), merged
    except ConfigError as exc:
        source = merged.source_of(exc.key)
        if source is None or source == Path(path):
            raise
        raise ConfigError(source, exc.key, exc.problem) from None


def _without(data: dict[str, Any], dotted_keys: tuple[str, ...]) -> dict[str, Any]:
    out = {name: dict(table) if isinstance(table, dict) else table for name, table in data.items()}
    for dotted in dotted_keys:
        section, key = dotted.split(".")
        if isinstance(out.get(section), dict):
            out[section].pop(key, None)
    return out


def load(path: Path | str = DEFAULT_PATH, secrets: bool = True) -> Config:
    return load_layered(path, secrets)[0]


SECRET_KEYS = {"server.channel_password"}


def effective_lines(cfg: Config, merged: layers.Layered) -> list[str]:
    """Every key, its effective value and the file it came from ("default" when none set it)."""
    lines = []
    for section, (_cls, keys) in SCHEMA.items():
        for key in keys:
            dotted = f"{section}.{key}"
            value = getattr(getattr(cfg, section), key)
            shown = ("(set)" if value else '""') if dotted in SECRET_KEYS else _toml_value(value)
            lines.append(f"{dotted} = {shown}  # {merged.origin.get(dotted, 'default')}")
    return lines


def _toml_value(value: Any) -> str:
    import json

    # A JSON string is a valid TOML basic string, once DEL (which JSON leaves raw) is escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f") if isinstance(value, str) else repr(value)

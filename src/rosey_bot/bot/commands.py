"""Chat commands for everyone and PM commands for moderators (docs/DESIGN.md, Commands)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..state import BotState
from .limits import TokenBucket
from .text import chat_lines, clean, from_server

MOD_RANK = 2
# Answers per user (moderators excepted): a burst, then one per REPLY_REFILL seconds.
# Without it any guest could make the bot post as fast as the guest can type, and
# a few guests could fill the bot's outbox so moderators' answers come late or never.
REPLY_BURST = 5
REPLY_REFILL = 5.0
BUDGETS_KEPT = 1000  # users with a budget in use; the rest start afresh
CHAT_COMMANDS = ("ping", "uptime", "version", "help")
PM_COMMANDS = ("status", "users", "stats", "say", "help")
REFUSAL = "Sorry, only channel moderators (rank 2 and up) may use PM commands."
# CyTube would run such a line as a chat command with the bot's rank, not the asker's.
SAY_COMMAND_REFUSAL = (
    "Not posted: a line starting with / would run as a CyTube chat command (/clear, /ban, ...) "
    "with my rank. Run chat commands yourself, or say it without the leading /."
)


def format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


@dataclass
class Reply:
    text: str
    say: str | None = None  # a moderator's `say <text>`: also post this in the channel


class Commands:
    def __init__(
        self,
        state: BotState,
        prefix: str,
        users: Callable[[], dict[str, int]],
        db_summary: Callable[[], dict],
        db_user_stats: Callable[[str], dict | None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.state, self.prefix = state, prefix
        self._users, self._summary, self._user_stats = users, db_summary, db_user_stats
        self._clock = clock
        self._budgets: dict[str, TokenBucket] = {}

    def _may_answer(self, user: str, rank: int) -> bool:
        """Take one answer from ``user``'s budget; moderators (and unnamed callers) have none."""
        if not user or rank >= MOD_RANK:
            return True
        now = self._clock()
        if len(self._budgets) >= BUDGETS_KEPT:
            self._budgets = {k: b for k, b in self._budgets.items() if _in_use(b, now)}
        key = user.lower()  # CyTube names are case-insensitive
        bucket = self._budgets.get(key)
        if bucket is None:
            bucket = self._budgets[key] = TokenBucket(REPLY_BURST, 1 / REPLY_REFILL, now)
        return bucket.take(now)

    def chat(self, text: str, user: str = "", rank: int = 0) -> str | None:
        """The answer to a chat line, or None when it is not one of our commands (or not now)."""
        text = from_server(text)  # a prefix such as "(" arrives as "&#40;"
        if not text.startswith(self.prefix):
            return None
        word = text[len(self.prefix) :].split(maxsplit=1)
        command = word[0].lower() if word else ""
        if command not in CHAT_COMMANDS or not self._may_answer(user, rank):
            return None
        if command == "ping":
            return "pong"
        if command == "uptime":
            return f"up {format_duration(self.state.snapshot().uptime_seconds)}"
        if command == "version":
            return f"rosey-bot {self.state.version}"
        if command == "help":
            return "commands: " + " ".join(self.prefix + c for c in CHAT_COMMANDS)
        return None

    def pm(self, rank: int, text: str, user: str = "") -> Reply | None:
        words = text.strip().split(maxsplit=1)
        if not words or not self._may_answer(user, rank):
            return None
        command, arg = words[0].lower(), (words[1] if len(words) > 1 else "")
        if command not in PM_COMMANDS:
            return Reply("Unknown command; PM me `help`.") if rank >= MOD_RANK else None
        if rank < MOD_RANK:
            return Reply(REFUSAL)
        if command == "help":
            return Reply("PM commands: status, users, stats [name], say <text>, help")
        if command == "status":
            snap = self.state.snapshot()
            return Reply(
                f"in {snap.channel}, {snap.user_count} users, up {format_duration(snap.uptime_seconds)}, "
                f"{snap.requests_handled} requests, {snap.error_count} errors, version {snap.version}"
            )
        if command == "users":
            names = sorted(self._users(), key=str.lower)
            return Reply(f"{len(names)} users: " + ", ".join(names))
        if command == "stats":
            return Reply(self._stats(arg.strip()))
        return self._say(arg)

    def _say(self, arg: str) -> Reply:
        text = from_server(arg)  # post what the moderator typed, not its HTML escapes
        if not clean(text):
            return Reply("usage: say <text>")
        if not chat_lines(text):  # a line of it would start with "/"
            return Reply(SAY_COMMAND_REFUSAL)
        return Reply("ok", say=clean(text))

    def _stats(self, name: str) -> str:
        if name:
            row = self._user_stats(name)
            if not row:
                return f"no statistics for {name}"
            return (
                f"{name}: {row['message_count']} messages, first seen {_when(row['first_seen'])}, "
                f"last seen {_when(row['last_seen'])}"
            )
        summary = self._summary()
        tables = summary.get("tables", {})
        counts = ", ".join(f"{k} {v}" for k, v in sorted(tables.items()))
        return f"schema v{summary.get('schema_version')}: {counts}"


def _in_use(bucket: TokenBucket, now: float) -> bool:
    bucket.wait_time(now)  # refills it up to now
    return bucket.tokens < bucket.capacity


def _when(time_ms: object) -> str:
    if not isinstance(time_ms, int | float):
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(time_ms / 1000))

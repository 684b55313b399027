"""What the bot does in its channel: track users, log to the database, answer commands.

It consumes the session's ServerEvents; replies go to an outbox (bot/outbox.py),
which the client empties at the flood limiter's pace. Bad payloads raise
ProtocolError; the caller counts them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from ..protocol import payloads
from ..state import BotState
from ..storage import StorageError
from .commands import Commands, Reply

log = logging.getLogger("rosey_bot.channel")

SERVER_NOTICE = "[server]"


class Outbox(Protocol):
    def say(self, text: str) -> None: ...
    def pm(self, to: str, text: str) -> None: ...


class Storage(Protocol):
    def record_chat(self, username: str, msg: str, time_ms: int) -> None: ...
    def record_pm(self, username: str, to: str, msg: str, time_ms: int) -> None: ...
    def record_media(self, media_id: str, title: str, media_type: str, duration_s: float, time_ms: int) -> None: ...
    def user_joined(self, name: str, rank: int, time_ms: int) -> None: ...
    def user_left(self, name: str, time_ms: int) -> None: ...
    def record_user_count(self, count: int, time_ms: int) -> None: ...
    def user_stats(self, name: str) -> dict | None: ...
    def summary(self) -> dict: ...


class ChannelBot:
    def __init__(
        self,
        state: BotState,
        db: Storage,
        outbox: Outbox,
        prefix: str = "!",
        clock: Callable[[], float] = time.time,
    ):
        self.state, self.db, self.outbox = state, db, outbox
        self.users: dict[str, int] = {}
        self.me: str | None = None
        self.ready = False
        self._clock = clock
        self._server_count: int | None = None
        self._last_chat_ms = 0  # the join replay repeats up to 15 old lines; log each once
        self.commands = Commands(state, prefix, lambda: dict(self.users), db.summary, db.user_stats)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- connection lifecycle (called by the client) ------------------------------
    def connection_lost(self) -> None:
        self.ready = False
        self.me = None
        self.users.clear()
        self._server_count = None

    def became_ready(self, name: str) -> None:
        self.me = name or None
        self.ready = True

    # -- events -----------------------------------------------------------------------
    def handle(self, name: str, payload: object) -> None:
        handler = getattr(self, "_on_" + name, None) if name.isidentifier() else None
        if handler is not None:
            handler(payload)

    def _on_userlist(self, payload: object) -> None:
        users = payloads.userlist(payload)
        now = self._now_ms()
        self.users = {u.name: u.rank for u in users}
        for u in users:
            self.db.user_joined(u.name, u.rank, now)
        self._publish_count()

    def _on_addUser(self, payload: object) -> None:  # noqa: N802 (CyTube's event name)
        u = payloads.user(payload)
        self.users[u.name] = u.rank
        self.db.user_joined(u.name, u.rank, self._now_ms())
        self._publish_count()

    def _on_userLeave(self, payload: object) -> None:  # noqa: N802
        name = payloads.user_name(payload, "userLeave")
        self.users.pop(name, None)
        self.db.user_left(name, self._now_ms())
        self._publish_count()

    def _on_setUserRank(self, payload: object) -> None:  # noqa: N802
        u = payloads.user(payload)
        if u.name in self.users:
            self.users[u.name] = u.rank

    def _on_usercount(self, payload: object) -> None:
        self._server_count = payloads.count(payload)
        self.state.set_user_count(self._server_count)
        self.db.record_user_count(self._server_count, self._now_ms())

    def _publish_count(self) -> None:
        # usercount is debounced (up to ~10 s late) and also counts anonymous viewers;
        # until it arrives, the user list is the best figure we have.
        if self._server_count is None:
            self.state.set_user_count(len(self.users))

    # Chat lines and PMs are answered before they are stored: the database is
    # never a reason to leave someone without an answer.
    def _on_chatMsg(self, payload: object) -> None:  # noqa: N802
        chat = payloads.chat_message(payload, self._now_ms())
        # Lines before we are ready are the join replay: old, already answered.
        if self.ready and chat.username not in (self.me, SERVER_NOTICE):
            answer = self.commands.chat(chat.msg, chat.username, self.users.get(chat.username, -1))
            if answer is not None:
                self.outbox.say(answer)
                self.state.request_handled()
        if chat.time_ms > self._last_chat_ms or self.ready:
            self.db.record_chat(chat.username, chat.msg, chat.time_ms)
            self._last_chat_ms = max(self._last_chat_ms, chat.time_ms)

    def _on_pm(self, payload: object) -> None:
        pm = payloads.private_message(payload, self._now_ms())
        # Our own PMs come back to us too.
        if self.ready and pm.username not in (self.me, SERVER_NOTICE):
            self._answer_pm(pm.username, pm.msg)
        self.db.record_pm(pm.username, pm.to, pm.msg, pm.time_ms)

    def _answer_pm(self, sender: str, text: str) -> None:
        try:
            reply = self.commands.pm(self.users.get(sender, -1), text, sender)
        except StorageError as exc:  # `stats` reads the database
            log.warning("PM command from %s: %s", sender[:40], exc)
            reply = Reply("The database cannot be read right now; try again later.")
        if reply is None:
            return
        self.outbox.pm(sender, reply.text)
        if reply.say:
            self.outbox.say(reply.say)
        self.state.request_handled()

    def _on_changeMedia(self, payload: object) -> None:  # noqa: N802
        media = payloads.media(payload)
        self.db.record_media(media.id, media.title, media.type, media.duration_s, self._now_ms())
        log.info("now playing: %s (%s)", media.title[:100], media.type)

    def _on_errorMsg(self, payload: object) -> None:  # noqa: N802
        log.warning("server error message: %s", payloads.error_text(payload))
        self.state.error()

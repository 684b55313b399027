"""The outbox: messages waiting to be sent, in order, and the sent ones the server has not echoed yet.

The channel behaviour puts replies in (``say``, ``pm``: cut and split by
text.py); the client pops the next one when the flood limiter allows and
tells the outbox what the server answered (an echo of our own message, a
cooldown). Pure, like limits.py: the clock is an argument, so it is tested
without a connection or sleeping.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .text import chat_lines, split_message

log = logging.getLogger("rosey_bot.client")

OUTBOX_LIMIT = 200  # the oldest is dropped beyond this: a bot that cannot send must not grow forever
ECHO_WAIT = 10.0  # seconds we keep a sent message in case a cooldown says it was dropped


@dataclass
class Outgoing:
    to: str | None  # None: channel chat
    text: str
    seq: int = 0  # the order the outbox promises to keep


class Outbox:
    def __init__(self, limit: int = OUTBOX_LIMIT, echo_wait: float = ECHO_WAIT):
        self.limit, self.echo_wait = limit, echo_wait
        self._queue: deque[Outgoing] = deque()
        self._unechoed: deque[tuple[float, Outgoing]] = deque()  # (sent at, message), oldest first
        self._seq = itertools.count()
        self.on_put: Callable[[], None] = lambda: None  # the client wakes its send loop

    def __len__(self) -> int:
        return len(self._queue)

    def say(self, text: str) -> None:
        lines = chat_lines(text)
        if not lines and text.strip():
            # The last gate: CyTube would run it as a chat command with the bot's rank.
            log.warning("not posting a chat line that would run as a command: %r", text[:60])
        for chunk in lines:
            self._put(None, chunk)

    def pm(self, to: str, text: str) -> None:
        for chunk in split_message(text):
            self._put(to, chunk)

    def _put(self, to: str | None, text: str) -> None:
        if len(self._queue) >= self.limit:
            log.warning("outbox full (%d messages); dropping the oldest", self.limit)
            self._queue.popleft()
        self._queue.append(Outgoing(to, text, next(self._seq)))
        self.on_put()

    def pop(self, now: float) -> Outgoing | None:
        """The next message to send (None when empty); it is unechoed from ``now`` on."""
        if not self._queue:
            return None
        item = self._queue.popleft()
        self._unechoed.append((now, item))
        return item

    def echoed(self) -> None:
        """The server echoed one of our messages: the oldest unechoed one, as it handles them in order."""
        if self._unechoed:
            self._unechoed.popleft()

    def cooldown(self, now: float) -> Outgoing | None:
        """The server dropped a message: put it back where it was in the queue, and return it.

        The server handles messages in order, so the dropped one is the oldest
        sent one it has not echoed; one older than ``echo_wait`` has had its
        answer lost in some other way and is forgotten.
        """
        while self._unechoed and now - self._unechoed[0][0] > self.echo_wait:
            self._unechoed.popleft()
        if not self._unechoed:
            return None
        dropped = self._unechoed.popleft()[1]
        at = 0
        while at < len(self._queue) and self._queue[at].seq < dropped.seq:
            at += 1
        self._queue.insert(at, dropped)
        return dropped

    def connection_lost(self) -> None:
        """A new connection has no unechoed messages: no cooldown can refer to the old one's."""
        self._unechoed.clear()

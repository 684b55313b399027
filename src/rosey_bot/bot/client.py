"""The asyncio CyTube client: a thin I/O layer over the sans-I/O session.

One ``run()`` loop: wait for the connect budget, discover, connect, let the
session drive join and login, pump frames until the session closes or the
socket dies, then back off (capped exponential, full jitter) and go again.
A send loop beside it takes the outbox's messages (outbox.py) at the flood
limiter's pace (limits.py); transport.py opens the socket on whichever
websockets API is installed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import Config
from ..protocol import ProtocolError, Session, payloads
from ..protocol.session import Closed, CloseKind, NamespaceJoined, Opened, Ready, ServerEvent
from ..state import BotState
from ..version import installed_version
from .discovery import discover
from .limits import Backoff, ConnectLimiter, OutgoingLimiter
from .outbox import Outbox
from .transport import ConnectionClosed, close_reason, open_websocket

log = logging.getLogger("rosey_bot.client")

FLOOD_NOTICE_MS = 1000.0  # noflood / spamFiltered carry no delay: assume a second


class EventHandler(Protocol):
    """What the client tells the channel behaviour (bot/channel.py's ChannelBot)."""

    def became_ready(self, name: str) -> None: ...
    def handle(self, name: str, payload: object) -> None: ...
    def connection_lost(self) -> None: ...


@dataclass
class Outcome:
    ready: bool = False
    closed: Closed | None = None
    error: str | None = None


class CytubeClient:
    """Sends what ``outbox`` holds (the handler's replies among it) and hands server events to ``handler``."""

    def __init__(
        self,
        config: Config,
        state: BotState,
        handler: EventHandler,
        outbox: Outbox,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.config, self.state, self.handler, self.outbox, self._clock = config, state, handler, outbox, clock
        bot = config.bot
        self.backoff = Backoff(bot.reconnect_min_delay, bot.reconnect_max_delay)
        self.connects = ConnectLimiter(bot.connect_burst, bot.connect_interval, clock())
        self.limiter = OutgoingLimiter(clock())
        self.session: Session | None = None
        self._wake = asyncio.Event()
        outbox.on_put = self._wake.set  # a queued message wakes the send loop

    # -- the connection loop ------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            outcome = await _until_stopped(stop, self._connect_once())
            self._connection_lost()
            if stop.is_set() or outcome is None:
                break
            self.state.error()
            if outcome.ready:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            if outcome.closed and outcome.closed.kind is CloseKind.RATE_LIMITED:
                # The server's connect bucket is empty; ours is now too, so the next
                # attempt waits for a refill on top of the jittered delay.
                self.connects.rate_limited(self._clock())
            why = outcome.closed.reason if outcome.closed else outcome.error
            log.warning("disconnected (%s); reconnecting in %.1fs", why, delay)
            await _sleep(stop, delay)

    def _connection_lost(self) -> None:
        self.state.set_connected(False)
        self.session = None
        self.outbox.connection_lost()
        self.handler.connection_lost()

    async def _connect_once(self) -> Outcome:
        cfg = self.config
        timeout = cfg.bot.response_timeout
        outcome = Outcome()
        try:
            url = await discover(cfg.server.url, cfg.server.channel, timeout)
            # Only connects that reach the server count against its per-IP bucket;
            # discovery failing (server down) costs nothing.
            wait = self.connects.wait_time(self._clock())
            if wait > 0:
                log.info("connect budget used up; waiting %.1fs", wait)
                await asyncio.sleep(wait)
            self.connects.take(self._clock())
            async with open_websocket(url, open_timeout=timeout, user_agent=f"rosey-bot/{installed_version()}") as ws:
                session = Session(
                    channel=cfg.server.channel,
                    name=cfg.account.name,
                    password=cfg.account.password,
                    channel_password=cfg.server.channel_password,
                    response_timeout=timeout,
                    now=self._clock(),
                )
                self.session = session
                sender = asyncio.create_task(self._send_loop(ws, session))
                try:
                    outcome.closed = await self._receive_loop(ws, session, outcome)
                finally:
                    sender.cancel()
                    await asyncio.gather(sender, return_exceptions=True)
        except ConnectionClosed as exc:
            outcome.error = close_reason(exc)
        except Exception as exc:  # DNS, refused, handshake, discovery: all mean "try again later"
            outcome.error = f"{type(exc).__name__}: {exc}"[:300]
        return outcome

    async def _receive_loop(self, ws, session: Session, outcome: Outcome) -> Closed:
        while True:
            await _flush(ws, session)
            deadline = session.deadline()
            try:
                async with asyncio.timeout(None if deadline is None else max(0.0, deadline - self._clock())):
                    frame = await ws.recv()
            except TimeoutError:
                events = session.tick(self._clock())
            else:
                try:
                    events = session.receive(frame, self._clock())
                except ProtocolError as exc:
                    log.warning("ignored a malformed frame: %s", exc)
                    self.state.error()
                    continue
            for event in events:
                if isinstance(event, Closed):
                    await _flush(ws, session)
                    return event
                if isinstance(event, Ready):
                    outcome.ready = True
                self._dispatch(event, session)

    def _dispatch(self, event, session: Session) -> None:
        if isinstance(event, ServerEvent):
            try:
                self._on_server_event(event, session)
            except ProtocolError as exc:
                log.warning("ignored a bad %s payload: %s", event.name[:40], exc)
                self.state.error()
            except Exception:  # a bug in a handler must not take the connection down
                log.exception("handling %s failed", event.name[:40])
                self.state.error()
        elif isinstance(event, Ready):
            # connected = in the channel and logged in (anonymous: in the channel, read-only)
            self.state.set_connected(True)
            self.handler.became_ready(event.name)
            log.info("in channel %s as %s", self.config.server.channel, event.name or "anonymous (read-only)")
            self._wake.set()
        elif isinstance(event, Opened):
            log.debug("engine.io open: ping every %ss, timeout %ss", event.ping_interval, event.ping_timeout)
        elif isinstance(event, NamespaceJoined):
            log.debug("namespace joined")

    def _on_server_event(self, event: ServerEvent, session: Session) -> None:
        name, payload, now = event.name, event.payload, self._clock()
        if name == "rank":
            self.limiter.update(now, rank=session.rank)
        elif name == "channelOpts":
            self.limiter.update(now, antiflood=payloads.antiflood(payload))
        elif name == "cooldown":
            self._cooldown(payloads.cooldown_ms(payload), now)
        elif name in ("noflood", "spamFiltered"):
            log.warning("server says %s", name)
            self._cooldown(FLOOD_NOTICE_MS, now)
        elif name in ("chatMsg", "pm") and _sender(payload) == session.logged_in_name:
            self.outbox.echoed()
        self.handler.handle(name, payload)

    def _cooldown(self, ms: float, now: float) -> None:
        self.outbox.cooldown(now)  # the dropped message goes back into the queue, in its place
        self.limiter.cooldown(ms, now)
        log.info("cooldown %.0f ms from the server; now at most %.2f msg/s", ms, self.limiter.limit[1])

    async def _send_loop(self, ws, session: Session) -> None:
        while True:
            if not (session.can_chat and self.outbox):
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = self.limiter.wait_time(self._clock())
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if not self.limiter.take(self._clock()):
                continue
            item = self.outbox.pop(self._clock())
            if item is None:
                continue
            if item.to is None:
                session.emit("chatMsg", {"msg": item.text, "meta": {}})
            else:
                session.emit("pm", {"to": item.to, "msg": item.text, "meta": {}})
            await _flush(ws, session)


def _sender(payload: Any) -> Any:
    return payload.get("username") if isinstance(payload, dict) else None


async def _flush(ws, session: Session) -> None:
    for frame in session.data_to_send():
        await ws.send(frame)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


async def _until_stopped(stop: asyncio.Event, coro: Coroutine) -> Any:
    """Run ``coro`` until it ends (its result) or ``stop`` is set (None)."""
    task = asyncio.create_task(coro)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None
    return task.result()

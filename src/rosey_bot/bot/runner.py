"""Runs the bot until asked to stop: the CyTube client, the channel behaviour and the database."""

from __future__ import annotations

import asyncio
import logging

from ..config import Config
from ..state import BotState
from ..storage import Database
from .channel import ChannelBot
from .client import CytubeClient
from .outbox import Outbox

log = logging.getLogger("rosey_bot.runner")

FLUSH_INTERVAL = 1.0


class Bot:
    """The pieces wired together; ``run()`` below is what the CLI calls."""

    def __init__(self, config: Config, state: BotState, db: Database):
        self.config, self.state, self.db = config, state, db
        self.outbox = Outbox()
        self.channel = ChannelBot(state, db, self.outbox, config.bot.command_prefix)
        self.client = CytubeClient(config, state, self.channel, self.outbox)

    async def run(self, stop: asyncio.Event) -> None:
        flusher = asyncio.create_task(self._flush_periodically(stop))
        try:
            await self.client.run(stop)
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            self.state.set_connected(False)
            self._flush()

    async def _flush_periodically(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(FLUSH_INTERVAL)
            self._flush()

    def _flush(self) -> None:
        # Never raises: a failing disk keeps the rows in memory; health and metrics show it.
        status = self.db.flush()
        self.state.set_storage(status.ok, status.buffered_rows, status.dropped_rows, status.error)


async def run(config: Config, state: BotState, stop: asyncio.Event) -> None:
    state.set_connected(False)
    db = Database(config.database.path, config.database.backup_dir or None, config.database.backup_keep)
    try:
        await Bot(config, state, db).run(stop)
    finally:
        db.close()

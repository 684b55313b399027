"""Runs the bot's connection until asked to stop.

Placeholder until the CyTube client lands (issue #3): it reports, honestly,
that it is not connected, so /api/health answers 503 "unhealthy".
"""

from __future__ import annotations

import asyncio

from ..config import Config
from ..state import BotState


async def run(config: Config, state: BotState, stop: asyncio.Event) -> None:
    state.set_connected(False)
    await stop.wait()

"""What the fake-CyTube integration tests share besides fixtures: the account password they use,
the two runtimes a connection test runs on, and a read-only look at the chat lines a bot stored.

Test modules import these from here; the fixtures (make_fake, make_bot, runtime) live in
tests/integration/conftest.py, which pytest finds on its own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

PASSWORD = "s3cret-Pa55word-xyzzy"

# The fake-CyTube tests that exercise the connection run on both websockets APIs:
# the venv's (>= 13, asyncio API) and Debian bookworm's python3-websockets (10.4, legacy API),
# which is the runtime of the Debian-native flavour.
RUNTIMES = ["venv", "debian"]
both_runtimes = pytest.mark.parametrize("runtime", RUNTIMES)


def stored_chat(db: Path, username: str = "alice") -> list[str]:
    """The chat lines of ``username`` in the database, oldest first (read-only, beside a running bot)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT msg FROM chat_messages WHERE username = ? ORDER BY id", (username,))]
    finally:
        conn.close()

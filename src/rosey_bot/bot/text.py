"""Outgoing message length limits: 320 characters per message, 1000 at most in total."""

from __future__ import annotations

MESSAGE_LIMIT = 320
HARD_CAP = 1000


def split_message(text: str, limit: int = MESSAGE_LIMIT, cap: int = HARD_CAP) -> list[str]:
    """Truncate to ``cap`` characters, then split into chunks of at most ``limit``, at spaces when possible."""
    text = " ".join(text.split())  # newlines and runs of blanks would be collapsed by the server anyway
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + "…"
    chunks: list[str] = []
    while text:
        if len(text) <= limit:
            chunks.append(text)
            break
        cut = text.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [c for c in chunks if c]

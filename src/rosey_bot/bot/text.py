"""Outgoing text: length limits (320 characters per message, 1000 in total) and chat safety.

CyTube runs a chat line that starts with "/" (``/clear``, ``/ban name``,
``/mute name``, ``/me /clear`` ...) as a command with the SENDER's rank: the
bot's. So no chat line the bot sends may start with "/", whoever asked for it.
PMs are never run as commands.
"""

from __future__ import annotations

import html
import re

MESSAGE_LIMIT = 320
HARD_CAP = 1000
COMMAND_START = "/"
# C0/C1 controls, and the invisible format characters that hide or reorder text
# (zero-width space and marks, bidi overrides and isolates, BOM): they would let a
# line look like something else than it is. U+200D (joiner) stays: emoji use it.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def clean(text: str) -> str:
    """One line of plain text: controls and invisible formatting removed, blanks collapsed."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def from_server(text: str) -> str:
    """Text as a user typed it: CyTube sends chat and PMs HTML-escaped (``'`` as ``&#39;``)."""
    return html.unescape(text)


def split_message(text: str, limit: int = MESSAGE_LIMIT, cap: int = HARD_CAP) -> list[str]:
    """Clean, truncate to ``cap`` characters, then split into chunks of at most ``limit``.

    Splits at spaces when possible, and never so that a later chunk starts with
    "/" (it would run as a command). The first chunk is the caller's to check.
    """
    text = clean(text)
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + "…"
    chunks: list[str] = []
    while text:
        if len(text) <= limit:
            chunks.append(text)
            break
        cut = _cut(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [c for c in chunks if c]


def _cut(text: str, limit: int) -> int:
    """Where to end the next chunk: a space, else mid-word, but never before a "/"."""
    cut = limit + 1
    while True:
        cut = text.rfind(" ", 0, cut)
        if cut <= limit // 2:
            break
        if not text[cut:].lstrip().startswith(COMMAND_START):
            return cut
    # No good space: cut mid-word, moving left until the rest does not start with "/".
    cut = limit
    while cut > 1 and text[cut:].lstrip().startswith(COMMAND_START):
        cut -= 1
    return cut


def chat_lines(text: str) -> list[str]:
    """The chat lines to post for ``text``; none at all if one of them would run as a command."""
    chunks = split_message(text)
    if any(chunk.startswith(COMMAND_START) for chunk in chunks):
        return []
    return chunks

"""Logging for the services: one line per record, carrying its syslog priority when systemd reads it.

journald takes a leading ``<N>`` on a line a service writes to stdout/stderr
as that line's syslog priority and strips it (``SyslogLevelPrefix=``, on by
default), so ``journalctl -p warning -u rosey-bot`` finds the warnings; without
it every line is logged at the unit's default, info. A terminal, a pipe or a
log file would show ``<4>`` literally, so the prefix goes only to the stream
systemd connected to the journal: it names that stream's device and inode in
``JOURNAL_STREAM``, and a child whose stderr was redirected inherits the
variable but not the stream.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from .config import one_line

FORMAT = "%(levelname)s %(name)s: %(message)s"
ERR, WARNING, INFO, DEBUG = 3, 4, 6, 7  # syslog(3) priorities


def syslog_priority(levelno: int) -> int:
    """logging's level -> syslog's priority (CRITICAL is crit, 2; custom levels round down)."""
    for floor, priority in ((logging.CRITICAL, 2), (logging.ERROR, ERR), (logging.WARNING, WARNING)):
        if levelno >= floor:
            return priority
    return INFO if levelno >= logging.INFO else DEBUG


def is_journal(stream: TextIO) -> bool:
    """True when ``stream`` is the one systemd connected to the journal (JOURNAL_STREAM=dev:inode)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # closed, or not a real file (pytest's capture)
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))


class OneLineFormatter(logging.Formatter):
    """Escapes newlines and other controls in messages: chat text, media titles and
    server errors come from strangers, and must not forge log lines in the journal.
    With ``syslog_prefix`` every line (a traceback's too) starts with the record's ``<N>``."""

    def __init__(self, fmt: str = FORMAT, syslog_prefix: bool = False):
        super().__init__(fmt)
        self.syslog_prefix = syslog_prefix

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging.Formatter names it)
        return one_line(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not self.syslog_prefix:
            return text
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.split("\n"))


def setup(level: int | str) -> None:
    """Root logging to stderr, one line per record, with priorities when stderr is the journal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(syslog_prefix=is_journal(sys.stderr)))
    logging.basicConfig(level=level, handlers=[handler])


def error_line(text: str) -> None:
    """A command's one-line complaint on stderr, at priority err in the journal (else the unit's info)."""
    prefix = f"<{ERR}>" if is_journal(sys.stderr) else ""
    print(prefix + one_line(text), file=sys.stderr)

"""Log lines carry their syslog priority when, and only when, stderr is systemd's journal stream."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from rosey_bot import logsetup


def record(level: int, msg: str, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("rosey_bot.bot", level, __file__, 1, msg, (), exc_info)


@pytest.mark.parametrize(
    ("level", "prefix"),
    [
        (logging.DEBUG, "<7>"),
        (logging.INFO, "<6>"),
        (logging.WARNING, "<4>"),
        (logging.ERROR, "<3>"),
        (logging.CRITICAL, "<2>"),
        (logging.WARNING + 5, "<4>"),  # a custom level in between rounds down
    ],
)
def test_prefix_is_the_records_priority(level, prefix):
    line = logsetup.OneLineFormatter(syslog_prefix=True).format(record(level, "disconnected"))
    assert line == f"{prefix}{logging.getLevelName(level)} rosey_bot.bot: disconnected"


def test_without_the_journal_lines_are_plain():
    assert logsetup.OneLineFormatter().format(record(logging.WARNING, "x")) == "WARNING rosey_bot.bot: x"


def test_a_message_stays_one_line_and_cannot_forge_a_priority():
    text = logsetup.OneLineFormatter(syslog_prefix=True).format(record(logging.INFO, "hi\n<3>ERROR forged"))
    assert text == "<6>INFO rosey_bot.bot: hi\\n<3>ERROR forged"


def test_every_line_of_a_traceback_carries_the_priority():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    lines = logsetup.OneLineFormatter(syslog_prefix=True).format(record(logging.ERROR, "failed", exc_info))
    lines = lines.split("\n")
    assert len(lines) > 3 and all(line.startswith("<3>") for line in lines), lines
    assert lines[-1] == "<3>RuntimeError: boom"


def test_is_journal_compares_the_stream_with_journal_stream(tmp_path, monkeypatch):
    with open(tmp_path / "journal", "w") as journal, open(tmp_path / "other", "w") as other:
        st = os.fstat(journal.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert logsetup.is_journal(journal)
        assert not logsetup.is_journal(other)  # inherited variable, redirected stream
        monkeypatch.setenv("JOURNAL_STREAM", "garbage")
        assert not logsetup.is_journal(journal)
        monkeypatch.delenv("JOURNAL_STREAM")
        assert not logsetup.is_journal(journal)


PROGRAM = """
import logging, sys
from rosey_bot import logsetup
logsetup.setup("INFO")
logging.getLogger("rosey_bot").info("starting")
logging.getLogger("rosey_bot").warning("disconnected")
logsetup.error_line("rosey-bot: config error: x")
"""


def run_with_stderr_to(path, journal: bool) -> list[str]:
    with open(path, "w") as err:
        st = os.fstat(err.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}" if journal else "1:1"}
        subprocess.run([sys.executable, "-c", PROGRAM], stderr=err, env=env, check=True, timeout=60)
    return path.read_text().splitlines()


def test_a_process_prefixes_only_when_its_stderr_is_the_journal(tmp_path):
    assert run_with_stderr_to(tmp_path / "j", journal=True) == [
        "<6>INFO rosey_bot: starting",
        "<4>WARNING rosey_bot: disconnected",
        "<3>rosey-bot: config error: x",
    ]
    assert run_with_stderr_to(tmp_path / "t", journal=False) == [
        "INFO rosey_bot: starting",
        "WARNING rosey_bot: disconnected",
        "rosey-bot: config error: x",
    ]

"""The service's log lines reach the journal with their syslog priority, so `journalctl -p` filters them.

A booted container with the released package, as an operator has it: a config that names a
server nobody answers on (the bot logs warnings as it reconnects), and before that a config
error (one line at priority err, then exit 78). The `<N>` prefix that carries the priority is
read and stripped by journald; run by hand, the same commands print plain lines.
"""

from __future__ import annotations

import pytest

from tests.support import apt
from tests.support.container import Container
from tests.support.e2e_releases import V1
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def journal(c: Container, priority: str) -> list[str]:
    return c.run(f"journalctl -u rosey-bot -p {priority} -o cat --no-pager").stdout.splitlines()


def status(c: Container) -> tuple[str, str]:
    show = c.run("systemctl show -p ActiveState -p ExecMainStatus rosey-bot").stdout
    props = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
    return props.get("ActiveState", ""), props.get("ExecMainStatus", "")


def wait_for_line(c: Container, priority: str, text: str) -> list[str]:
    """The unit's journal at ``priority`` or worse, once a line there contains ``text``."""

    def found() -> list[str] | None:
        lines = journal(c, priority)
        return lines if any(text in line for line in lines) else None

    return wait_until(found, 60, f"{text!r} at priority {priority} or worse in the journal of rosey-bot")


def test_journalctl_priority_filters_the_bots_lines(repository, base_rootfs):
    with Container(base_rootfs, "cli-journal", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.run(f"apt-get install -y -q rosey-bot={V1} </dev/null")

        # A config error: one line at err, and the unit stays down (78).
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG + "\n[bot]\nno_such_key = 1\n")
        c.run("systemctl restart rosey-bot", check=False)
        errors = wait_for_line(c, "err", "config error")
        assert any("bot.no_such_key" in line for line in errors), errors
        # The line is written just before the exit: wait for systemd to see the process end.
        wait_until(lambda: status(c) == ("failed", "78"), 60, "the unit to fail with exit status 78")

        # A valid config naming a server that does not answer (127.0.0.1:9): warnings as it reconnects.
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)
        c.run("systemctl reset-failed rosey-bot; systemctl restart rosey-bot")
        warnings = wait_for_line(c, "warning", "disconnected")
        everything = journal(c, "debug")
        starting = f"rosey-bot {V1} starting for channel e2e"
        assert any(starting in line for line in everything), everything
        # The info line is there, but not at warning or worse; the warnings are not errors.
        assert not any(starting in line for line in warnings), warnings
        # Only warnings and worse: the bot's, its one-line complaints, and systemd's about the unit.
        ours = ("WARNING ", "ERROR ", "CRITICAL ", "rosey-bot: ", "rosey-bot.service: ")
        assert all(line.startswith(ours) for line in warnings), warnings
        errors = journal(c, "err")
        assert not any("disconnected" in line or starting in line for line in errors), errors
        # journald stripped every prefix it read.
        assert not [line for line in everything if line[:1] == "<" and line[2:3] == ">"], everything

        # By hand (not the journal's stream, even with JOURNAL_STREAM inherited): no prefix.
        by_hand = c.run("JOURNAL_STREAM=1:1 rosey-bot -c /nonexistent check-config", check=False)
        assert by_hand.returncode == 78 and by_hand.stderr.startswith("rosey-bot: config error:"), by_hand.stderr

"""First run the Debian way: debconf asks for the server, the channel and the account; preseeding gives the
same result without a prompt; dpkg-reconfigure changes it; the password never stays in debconf's database.

Real containers (systemd, dpkg, apt, debconf) inside a private network namespace with two fake CyTube
servers (tests/e2e/debconf_lab.py); the releases of conftest.py from a file: repository.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.e2e import debconf_lab
from tests.e2e.debconf_lab import ACCOUNT, PASSWORD, Terminal
from tests.support import apt
from tests.support.container import Container
from tests.support.e2e_releases import V1, V2
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

LAYER = "/etc/rosey-bot/debconf.toml"
SHIPPED_CONFIG = (ROOT / "packaging/config.toml").read_text()
# As automation runs apt: no terminal, no answers.
PLAIN_APT = "apt-get install -y -q"


@pytest.fixture
def lab():
    with debconf_lab.lab("rdc") as net:
        yield net


def booted(repository, base_rootfs, lab, name):
    return Container(
        base_rootfs,
        f"debconf-{name}",
        binds={str(repository): "/srv/apt"},
        private_network=False,
        extra_args=lab.nspawn_args,
    )


@contextmanager
def installed_first(repository, base_rootfs, lab, name) -> Iterator[Container]:
    """A container with V1 installed non-interactively from preseeded answers, its bot in the first channel."""
    with booted(repository, base_rootfs, lab, name) as c:
        apt.add_repository(c)
        preseed(c, server_url=lab.a.url, channel="first")
        c.run(f"{PLAIN_APT} rosey-bot={V1} </dev/null")
        in_channel(c, "first", V1)
        yield c


def preseed(c: Container, **answers: str) -> None:
    kinds = {"account-password": "password"}
    lines = "".join(
        f"rosey-bot rosey-bot/{q.replace('_', '-')} {kinds.get(q.replace('_', '-'), 'string')} {v}\n"
        for q, v in answers.items()
    )
    c.run("debconf-set-selections", input=lines)


def words(text: str) -> str:
    """A pattern for ``text`` however the frontend wrapped it."""
    return r"\s+".join(map(re.escape, text.split()))


def in_channel(c: Container, channel: str, version: str) -> dict:
    """Running ``version``, connected, in ``channel``: what /api/health says once ready."""
    proc = c.run(f"rosey-healthcheck --ready --wait 60 --expect-version {version}", check=False)
    body = apt.health(c)
    assert proc.returncode == 0, f"{proc.stderr.strip()}; health: {body}"
    assert body["connected"] is True and body["channel"] == channel, body
    assert c.run("systemctl is-active rosey-bot", check=False).stdout.strip() == "active"
    return body


def secret_nowhere(c: Container) -> None:
    """The password is in its file and nowhere else: not debconf's database, the journal, /var/log."""
    hits = c.run(
        f"grep -rlF -- {shlex.quote(PASSWORD)} /var/cache/debconf /var/log /etc /run /tmp 2>/dev/null || true"
    ).stdout.split()
    assert hits == ["/etc/rosey-bot/password"], f"the password is stored in: {hits}"
    journal = c.run("journalctl --no-pager -o cat").stdout
    assert PASSWORD not in journal
    stat = c.run("stat -c '%U:%G %a' /etc/rosey-bot/password").stdout.split()
    assert stat == ["root:rosey-bot", "640"], stat


def test_preseeded_noninteractive_install_runs_the_bot_and_keeps_no_password(repository, base_rootfs, lab):
    with booted(repository, base_rootfs, lab, "preseed") as c:
        apt.add_repository(c)
        preseed(c, server_url=lab.a.url, channel="first", account_name=ACCOUNT, account_password=PASSWORD)
        proc = c.run(f"{PLAIN_APT} rosey-bot={V1} </dev/null")
        out = proc.stdout + proc.stderr

        assert f"rosey-bot {V1} is running and answers its health check." in out, out
        in_channel(c, "first", V1)
        lab.a.wait_login(f"{ACCOUNT} registered")  # the password file works
        # No file edited by hand: the conffile is the shipped one; the answers are debconf's layer.
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == SHIPPED_CONFIG
        layer = c.run(f"cat {LAYER}").stdout
        assert f'url = "{lab.a.url}"' in layer and 'channel = "first"' in layer and PASSWORD not in layer
        assert c.run(f"stat -c '%U:%G %a' {LAYER}").stdout.split() == ["root:rosey-bot", "640"]
        sources = c.run("rosey-bot check-config --sources -q").stdout
        assert f'server.url = "{lab.a.url}"  # {LAYER}' in sources, sources
        secret_nowhere(c)
        # debconf still has every other answer (for dpkg-reconfigure), the password as empty.
        db = c.run("debconf-show rosey-bot").stdout
        assert f"rosey-bot/server-url: {lab.a.url}" in db and PASSWORD not in db, db

        # Purge removes the layer and debconf's answers.
        c.run("apt-get purge -y -q rosey-bot </dev/null")
        assert c.run(f"test -e {LAYER}", check=False).returncode != 0
        assert c.run("debconf-show rosey-bot").stdout.strip() == ""
        # (debconf rotates config.dat and templates.dat into *-old at its next save; passwords.dat has no backup.)
        databases = "/var/cache/debconf/config.dat /var/cache/debconf/templates.dat /var/cache/debconf/passwords.dat"
        assert c.run(f"grep -l rosey-bot/ {databases} || true").stdout.strip() == ""
        assert c.run("test -e /var/cache/debconf/passwords.dat-old", check=False).returncode != 0


def test_noninteractive_install_with_nothing_preseeded_is_installed_not_started(repository, base_rootfs, lab):
    with booted(repository, base_rootfs, lab, "nothing") as c:
        apt.add_repository(c)
        proc = c.run(f"{PLAIN_APT} rosey-bot={V1} </dev/null")
        out = proc.stdout + proc.stderr
        assert "installed but not started" in out and "server.url" in out, out
        assert "dpkg-reconfigure rosey-bot" in out, out
        assert c.run("systemctl is-active rosey-bot", check=False).stdout.strip() == "inactive"
        assert apt.installed_version(c) == V1
        assert c.run(f"test -e {LAYER}", check=False).returncode != 0, "no answers: no layer"
        assert c.run("test -e /etc/rosey-bot/password", check=False).returncode != 0


def test_interactive_install_through_a_terminal(repository, base_rootfs, lab):
    """A person at a terminal: debconf's teletype frontend, a malformed URL refused with its reason, then the
    right answers; the bot ends running and in the channel. Meanwhile no process shows the password."""
    with booted(repository, base_rootfs, lab, "tty") as c:
        apt.add_repository(c)
        # Every process's arguments, sampled all through the install.
        sampler = "while :; do for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$f; echo; done; done"
        c.run(f"sh -c {shlex.quote(sampler)} >/tmp/ps.log 2>/dev/null </dev/null & echo $! >/tmp/ps.pid")
        term = Terminal(
            c, f"apt-get install -y rosey-bot={V1}", {"DEBIAN_FRONTEND": "teletype", "DEBIAN_PRIORITY": "medium"}
        )
        term.expect(r"CyTube server address:")
        term.send("cytube.example")
        term.expect(words('The answer "cytube.example" for server.url is refused: must start with http:// or https://'))
        term.expect(r"CyTube server address:")
        term.send(lab.a.url)
        term.expect(r"CyTube channel:")
        term.send("first")
        term.expect(r"Name of the bot in the channel:")
        term.send(ACCOUNT)
        term.expect(r"Password of the registered account:")
        term.send(PASSWORD)
        rc = term.finish()
        assert rc == 0, term.text[-3000:]
        assert f"rosey-bot {V1} is running and answers its health check." in term.text

        in_channel(c, "first", V1)
        lab.a.wait_login(f"{ACCOUNT} registered")
        assert PASSWORD not in term.text, "the password was echoed"
        c.run("kill $(cat /tmp/ps.pid)")
        processes = c.run("cat /tmp/ps.log").stdout
        assert "dpkg" in processes and "/var/lib/dpkg/info/rosey-bot.postinst" in processes, "the sampler saw nothing"
        assert PASSWORD not in processes, "a process had the password in its arguments"
        c.run("rm /tmp/ps.log /tmp/ps.pid")
        secret_nowhere(c)
        assert "cytube.example" not in c.run(f"cat {LAYER}").stdout
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == SHIPPED_CONFIG

        # dpkg-reconfigure at the terminal: every question again; a channel CyTube would refuse is asked
        # again with the reason; an empty password keeps the one given before. (The teletype frontend
        # offers no default to keep: the other answers are typed again.)
        layer = c.run(f"cat {LAYER}").stdout
        before = c.run("systemctl show -P InvocationID rosey-bot").stdout.strip()
        # (debconf lets DEBIAN_FRONTEND win over -f, and the containers' default is noninteractive.)
        term = Terminal(c, "dpkg-reconfigure rosey-bot", {"DEBIAN_FRONTEND": "teletype"})
        term.expect(r"CyTube server address:")
        term.send(lab.a.url)
        term.expect(r"CyTube channel:")
        term.send("no spaces here")
        term.expect(words('The answer "no spaces here" for server.channel is refused: must be 1-30 characters'))
        term.expect(r"CyTube channel:")
        term.send("first")
        term.expect(r"Name of the bot in the channel:")
        term.send(ACCOUNT)
        term.expect(r"Password of the registered account:")
        term.send("")
        assert term.finish() == 0, term.text[-3000:]
        assert c.run("systemctl show -P InvocationID rosey-bot").stdout.strip() != before, "not restarted"
        in_channel(c, "first", V1)
        assert c.run(f"cat {LAYER}").stdout == layer, "the refused answer or an empty one changed the layer"
        assert c.run("cat /etc/rosey-bot/password").stdout == PASSWORD + "\n"
        secret_nowhere(c)


def test_reconfigure_moves_the_bot_refuses_bad_answers_and_reports_a_silent_server(repository, base_rootfs, lab):
    with installed_first(repository, base_rootfs, lab, "reconf") as c:
        # Another server and channel: the bot moves there through the health gate.
        preseed(c, server_url=lab.b.url, channel="second")
        proc = c.run("dpkg-reconfigure -f noninteractive rosey-bot </dev/null")
        assert f"rosey-bot {V1} is running and answers its health check." in proc.stdout + proc.stderr
        in_channel(c, "second", V1)

        # Malformed answers are refused with the reason, never written; the bot stays where it was.
        preseed(c, server_url="not-a-url", channel="bad channel!")
        proc = c.run("dpkg-reconfigure -f noninteractive rosey-bot </dev/null")
        out = proc.stdout + proc.stderr
        assert "server.url is refused and not used: must start with http:// or https://" in out, out
        assert "server.channel is refused and not used: must be 1-30 characters" in out, out
        layer = c.run(f"cat {LAYER}").stdout
        assert "not-a-url" not in layer and "bad channel" not in layer and 'channel = "second"' in layer
        in_channel(c, "second", V1)

        # A server that does not answer: one line saying what to check, and the package stays configured.
        preseed(c, server_url="http://127.0.0.1:9")
        proc = c.run("dpkg-reconfigure -f noninteractive rosey-bot </dev/null", check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        warnings = [line for line in out.splitlines() if "does not answer" in line]
        assert len(warnings) == 1, out
        assert "http://127.0.0.1:9" in warnings[0] and "then: dpkg-reconfigure rosey-bot" in warnings[0], warnings
        assert apt.installed_version(c) == V1  # "ii": dpkg-reconfigure can run again
        # ... and running it again with the right answer fixes it.
        preseed(c, server_url=lab.b.url)
        proc = c.run("dpkg-reconfigure -f noninteractive rosey-bot </dev/null")
        assert "does not answer" not in proc.stdout + proc.stderr
        in_channel(c, "second", V1)


def test_operator_values_win_over_debconf_and_survive_upgrade_and_downgrade(repository, base_rootfs, lab):
    with installed_first(repository, base_rootfs, lab, "operator") as c:
        # The operator points the bot elsewhere in the conffile: their value wins over debconf's layer.
        edited = SHIPPED_CONFIG.replace('# url = ""', f'url = "{lab.b.url}"').replace(
            '# channel = ""', 'channel = "second"'
        )
        assert edited != SHIPPED_CONFIG
        c.write("/etc/rosey-bot/config.toml", edited)
        c.run("systemctl restart rosey-bot")
        in_channel(c, "second", V1)
        sources = c.run("rosey-bot check-config --sources -q").stdout
        assert 'server.channel = "second"  # /etc/rosey-bot/config.toml' in sources, sources

        # dpkg-reconfigure does not ask what the operator set, and says where it is set.
        proc = c.run("dpkg-reconfigure -f noninteractive rosey-bot </dev/null")
        assert "server.url is set in /etc/rosey-bot/config.toml, which wins over debconf" in proc.stderr
        in_channel(c, "second", V1)

        layer = c.run(f"cat {LAYER}").stdout
        for spec, downgrade in ((f"rosey-bot={V2}", False), (f"rosey-bot={V1}", True)):
            version = spec.split("=")[1]
            flags = " --allow-downgrades" if downgrade else ""
            c.run(f"{PLAIN_APT}{flags} {apt.KEEP_CONFIG} {spec} </dev/null")
            in_channel(c, "second", version)
            assert c.run("cat /etc/rosey-bot/config.toml").stdout == edited
            assert c.run(f"cat {LAYER}").stdout == layer

"""The package behaves like a well-kept Debian package in every transition, in both flavours.

All in booted bookworm containers with real systemd, apt and dpkg, with the
releases of conftest.py (V1 schema N, V2 schema N+1, BROKEN fails its health check).
Each test runs once per flavour (the ``flavour`` fixture): rosey-bot, the
dh-virtualenv package, and rosey-bot-native, the stdeb package on Debian's libraries.
"""

import shlex

from tests.e2e.channel_presence import presence_server
from tests.support import apt
from tests.support.botdata import DB, assert_rows_kept, rows, write_rows
from tests.support.container import Container
from tests.support.e2e_releases import BROKEN, CODE_DIRS, FLAVOURS, V1, V2

# As automation runs apt: no terminal, no answers, no forced conffile choice.
PLAIN_APT = "apt-get install -y -q"
EDITED_CONFIG = apt.TEST_CONFIG + '\n[log]\nlevel = "DEBUG"  # edited by the operator\n'


def plain_install(c: Container, spec: str, check: bool = True, downgrade: bool = False):
    flags = " --allow-downgrades" if downgrade else ""
    return c.run(f"{PLAIN_APT}{flags} {spec} </dev/null", check=check, env={"ROSEY_HEALTH_WAIT": "15"})


def test_fresh_unconfigured_install_then_configure(repository, flavour, flavour_rootfs):
    pkg = FLAVOURS[flavour]
    with (
        presence_server("e2e") as net,
        Container(
            flavour_rootfs,
            f"e2e-fresh-{flavour}",
            binds={str(repository): "/srv/apt"},
            private_network=False,
            extra_args=net.nspawn_args,
        ) as c,
    ):
        apt.add_repository(c)
        proc = plain_install(c, f"{pkg}={V1}")
        # postinst talks through debconf's confmodule, which sends a script's stdout to stderr.
        out = proc.stdout + proc.stderr
        assert "not started" in out and "server.url" in out, f"postinst should tell the operator what to do:\n{out}"
        assert c.run("systemctl is-active rosey-bot", check=False).stdout.strip() == "inactive"
        assert c.run("systemctl is-enabled rosey-bot").stdout.strip() == "enabled"
        assert c.run("getent passwd rosey-bot").stdout.split(":")[6].strip() == "/usr/sbin/nologin"
        assert c.run("stat -c '%U %a' /var/lib/rosey-bot").stdout.split() == ["rosey-bot", "750"]
        assert apt.installed_version(c, pkg) == V1
        # Byte-code is compiled at install, not shipped.
        assert c.run(f"find {CODE_DIRS[flavour]} -name '*.pyc' | head -1").stdout.strip()

        # Configured for a CyTube server (the fake one, in the container's network namespace), the
        # installed bot joins its channel: each flavour's websockets (the venv's, Debian's 10.4) talks to it.
        config = apt.TEST_CONFIG.replace("http://127.0.0.1:9", net.url) + '\n[account]\nname = "rosey"\n'
        c.write("/etc/rosey-bot/config.toml", config)
        c.run("rosey-bot check-config --require-server")
        c.run("systemctl restart rosey-bot")
        apt.assert_running(c, V1, pkg)
        net.wait_for("join", "rosey")


def test_upgrade_downgrade_keep_rows_and_edited_config(repository, flavour, flavour_rootfs):
    pkg = FLAVOURS[flavour]
    with Container(flavour_rootfs, f"e2e-rollback-{flavour}", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        plain_install(c, f"{pkg}={V1}")
        c.write("/etc/rosey-bot/config.toml", EDITED_CONFIG)
        c.run("systemctl restart rosey-bot")
        apt.assert_running(c, V1, pkg)
        write_rows(c, "a")
        before = rows(c)
        assert before["user_version"] == 1 and len(before["chat_messages"]) >= 25

        plain_install(c, f"{pkg}={V2}")
        apt.assert_running(c, V2, pkg)
        after_upgrade = rows(c)
        assert after_upgrade["user_version"] == 2, "V2 carries migration N+1"
        assert "e2e_future" in after_upgrade
        backups = c.run("ls /var/lib/rosey-bot/backups").stdout.split()
        assert any("pre-migration" in b for b in backups), f"no backup before the schema change: {backups}"
        for table in ("chat_messages", "user_counts"):
            assert after_upgrade[table] == before[table]
        write_rows(c, "b")

        plain_install(c, f"{pkg}={V1}", downgrade=True)
        apt.assert_running(c, V1, pkg)
        after_downgrade = rows(c)
        # Schema-N code on the N+1 database: nothing migrated back, nothing lost, still writable.
        assert after_downgrade["user_version"] == 2
        for table in ("chat_messages", "user_counts", "users"):
            assert len(after_downgrade[table]) >= len(before[table])
        chats = {r[3] for r in after_downgrade["chat_messages"]}
        assert {f"hello a {i}" for i in range(25)} | {f"hello b {i}" for i in range(25)} <= chats
        write_rows(c, "c")
        assert len(rows(c)["chat_messages"]) == len(after_downgrade["chat_messages"]) + 25

        assert c.run("cat /etc/rosey-bot/config.toml").stdout == EDITED_CONFIG, "edited conffile must survive"


def test_failing_health_check_is_reported_and_rollback_recovers(repository, flavour, flavour_rootfs):
    pkg = FLAVOURS[flavour]
    with Container(flavour_rootfs, f"e2e-broken-{flavour}", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)
        apt.install(c, f"{pkg}={V2}")
        apt.assert_running(c, V2, pkg)

        proc = c.run(
            f"{PLAIN_APT} {apt.KEEP_CONFIG} {pkg}={BROKEN} </dev/null", check=False, env={"ROSEY_HEALTH_WAIT": "10"}
        )
        assert proc.returncode != 0, "apt-get must fail when the new release is unhealthy"
        output = proc.stdout + proc.stderr
        assert f"health check FAILED for {BROKEN}" in output, output
        assert f"roll back with: apt-get install --allow-downgrades {pkg}=" in output, output
        status = c.run(f"dpkg -l {pkg}").stdout.splitlines()[-1].split()
        assert status[:3] == ["iF", pkg, BROKEN], f"expected half-configured {BROKEN}: {status}"

        # The documented recovery: install the previous version.
        apt.install(c, f"{pkg}={V2}", downgrade=True)
        apt.assert_running(c, V2, pkg)


def test_remove_reinstall_purge(repository, flavour, flavour_rootfs):
    pkg, code = FLAVOURS[flavour], CODE_DIRS[flavour]
    with Container(flavour_rootfs, f"e2e-purge-{flavour}", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.write("/etc/rosey-bot/config.toml", EDITED_CONFIG)
        apt.install(c, f"{pkg}={V1}")
        apt.assert_running(c, V1, pkg)
        write_rows(c, "r")

        c.run(f"apt-get remove -y -q {pkg} </dev/null")
        assert c.run("systemctl is-active rosey-bot", check=False).stdout.strip() in ("inactive", "unknown")
        assert c.run(f"dpkg -l {pkg}").stdout.splitlines()[-1].split()[0] == "rc"
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == EDITED_CONFIG
        assert c.run(f"test -f {DB} && getent passwd rosey-bot", check=False).returncode == 0
        # Nothing of the code is left, byte-code included (dpkg does not know those files).
        assert c.run(f"test -e {code}", check=False).returncode != 0, c.run(f"find {code}", check=False).stdout

        apt.install(c, f"{pkg}={V1}")
        apt.assert_running(c, V1, pkg)
        assert len(rows(c)["chat_messages"]) == 25, "reinstall finds the old data"

        c.run(f"apt-get purge -y -q {pkg} </dev/null")
        assert pkg not in c.run("dpkg -l | awk '{print $2}'").stdout.split()
        for path in ("/var/lib/rosey-bot", "/etc/rosey-bot", code):
            assert c.run(f"test -e {path}", check=False).returncode != 0, f"{path} left after purge"
        assert c.run("getent passwd rosey-bot", check=False).returncode != 0, "purge removes the user"


def test_units_verify_and_are_hardened(repository, flavour, flavour_rootfs, record_property):
    pkg = FLAVOURS[flavour]
    with Container(flavour_rootfs, f"e2e-units-{flavour}", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)
        apt.install(c, f"{pkg}={V1}")
        for unit in ("rosey-bot.service", "rosey-dashboard.service"):
            # --man=no: minbase has no man(1); the pages' presence is checked below.
            c.run(f"systemd-analyze verify --man=no /lib/systemd/system/{unit}")
            out = c.run(f"systemd-analyze security --offline=true /lib/systemd/system/{unit}").stdout
            score = float(out.strip().splitlines()[-1].split("level for")[1].split(":")[1].split()[0])
            record_property(f"{flavour}_{unit}_exposure", score)
            print(f"e2e: {flavour} {unit} exposure {score}")
            assert score <= 2.0, f"{unit} exposure {score} > 2.0:\n{out}"
        for page in ("rosey-bot", "rosey-healthcheck", "rosey-dashboard", "rosey-report"):
            c.run(f"test -f /usr/share/man/man1/{page}.1.gz")
        for doc in ("README.md", "DASHBOARD.md"):
            c.run(f"test -f /usr/share/doc/rosey-bot/{doc}")
        # ...and both still work under that hardening.
        apt.assert_running(c, V1, pkg)
        assert c.run("systemctl is-active rosey-dashboard").stdout.strip() == "active"
        poll = (
            "import time, urllib.request as u\n"
            "for _ in range(40):\n"
            "    try:\n"
            "        print(u.urlopen('http://127.0.0.1:5000/', timeout=3).status); break\n"
            "    except OSError: time.sleep(0.25)\n"
        )
        assert c.run(f"python3 -c {shlex.quote(poll)}").stdout.strip() == "200", "dashboard does not answer"


# debconf's answers, preseeded as an operator would: they must survive a switch too.
PRESEED = "rosey-bot rosey-bot/server-url string http://127.0.0.1:9\nrosey-bot rosey-bot/channel string e2e\n"


def _switch_to(c: Container, flavour: str, version: str) -> str:
    """apt-get install the other flavour, as automation runs apt (no conffile option, stdin closed)."""
    proc = plain_install(c, f"{FLAVOURS[flavour]}={version}")
    apt.assert_running(c, version, FLAVOURS[flavour])
    return proc.stdout + proc.stderr


def _settings(layer: str) -> list[str]:
    """debconf.toml without its comment header, which names the flavour that wrote it."""
    return [line for line in layer.splitlines() if line and not line.startswith("#")]


def test_switching_flavours_both_ways_keeps_config_data_and_answers(repository, native_rootfs):
    venv, native = FLAVOURS["venv"], FLAVOURS["native"]
    with Container(native_rootfs, "e2e-switch", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.run("debconf-set-selections", input=PRESEED)
        plain_install(c, f"{venv}={V2}")
        c.write("/etc/rosey-bot/config.toml", EDITED_CONFIG)
        c.run("systemctl restart rosey-bot")
        apt.assert_running(c, V2, venv)
        answers = _settings(c.run("cat /etc/rosey-bot/debconf.toml").stdout)
        assert 'channel = "e2e"' in answers, answers
        write_rows(c, "v")
        before = rows(c)

        out = _switch_to(c, "native", V2)
        assert f"rosey-bot {V2} is running and answers its health check." in out, out
        # dpkg -l says which flavour runs; the venv's code is gone, its config-files entry is harmless.
        assert c.run(f"dpkg -l {venv}", check=False).stdout.splitlines()[-1].split()[0] in ("rc", "un")
        assert c.run(f"test -e {CODE_DIRS['venv']}", check=False).returncode != 0
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == EDITED_CONFIG
        layer = c.run("cat /etc/rosey-bot/debconf.toml").stdout
        assert _settings(layer) == answers
        # Its header points at the flavour now installed, whose debconf holds the answers.
        assert f"dpkg-reconfigure {native}\n" in layer, layer
        assert_rows_kept(before, rows(c))
        # Purging what is left of the old flavour must not take the running one's config, data or user.
        c.run(f"dpkg --purge {venv}")
        apt.assert_running(c, V2, native)
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == EDITED_CONFIG
        assert c.run("systemctl is-enabled rosey-bot").stdout.strip() == "enabled"
        write_rows(c, "n")
        middle = rows(c)
        assert len(middle["chat_messages"]) == len(before["chat_messages"]) + 25

        out = _switch_to(c, "venv", V2)
        assert f"rosey-bot {V2} is running and answers its health check." in out, out
        assert c.run(f"test -e {CODE_DIRS['native']}", check=False).returncode != 0
        assert c.run("cat /etc/rosey-bot/config.toml").stdout == EDITED_CONFIG
        layer = c.run("cat /etc/rosey-bot/debconf.toml").stdout
        assert _settings(layer) == answers
        assert f"dpkg-reconfigure {venv}\n" in layer, layer
        assert c.run("getent passwd rosey-bot", check=False).returncode == 0
        assert_rows_kept(middle, rows(c))

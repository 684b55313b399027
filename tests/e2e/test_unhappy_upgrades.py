"""The package's unhappy paths under real systemd, apt and dpkg (docs/PACKAGING.md, "When an upgrade goes wrong").

Each test boots one container and walks several unhappy paths in a row, each
ending as every unhappy path must: the running bot's version is dpkg's (or
the bot is deliberately stopped), the package is configured, no row is lost.
"""

import time

from tests.e2e.channel_presence import presence_server
from tests.e2e.upgrade_helpers import (
    apt_install,
    assert_ends_well,
    build_squatter,
    dpkg_state,
    kill_dpkg_mid_unpack,
    not_started_lines,
    unit_instance,
)
from tests.support import apt
from tests.support.botdata import rows, write_rows
from tests.support.container import Container
from tests.support.e2e_releases import BROKEN, UNIT_CHANGE, UNITS, V1, V2

# A man page: shipped by every release, after the whole venv in the archive,
# so dpkg has unpacked everything else when it hits the conflict.
CONTESTED = "/usr/share/man/man1/rosey-report.1.gz"
# dpkg runs this after each of its runs: apt's unpack run, then its configure run.
PASSWORD_CONFIG = '[account]\nname = "rosey"\npassword_file = "/etc/rosey-bot/password"\n'
DPKG_HOOK = 'post-invoke=logger -t e2e-dpkg "finished $DPKG_HOOK_ACTION"\n'


def journal_times(c: Container, since: str, args: str, text: str) -> list[float]:
    """Timestamps (seconds) of journal lines since ``since`` matching ``args`` and containing ``text``."""
    out = c.run(f"journalctl -q --no-pager -o short-unix --since=@{since} {args}").stdout
    return [float(line.split()[0]) for line in out.splitlines() if text in line]


def test_upgrade_interrupts_the_bot_only_for_the_restart(repository, base_rootfs, tmp_path):
    with (
        presence_server("e2e") as net,
        Container(
            base_rootfs,
            "pkg-upgrade",
            binds={str(repository): "/srv/apt"},
            private_network=False,
            extra_args=net.nspawn_args,
        ) as c,
    ):
        apt.add_repository(c)
        c.write(
            "/etc/rosey-bot/config.toml",
            f'[server]\nurl = "{net.url}"\nchannel = "e2e"\n[account]\nname = "rosey"\n[health]\nport = 8000\n',
        )
        apt.install(c, f"rosey-bot={V1}")
        apt.assert_running(c, V1)
        net.wait_for("join", "rosey")
        write_rows(c, "a")
        before = rows(c)

        # 1. The unpack fails (a file conflict): the old bot never stops.
        c.copy_in(build_squatter(tmp_path, CONTESTED), "/root/squatter.deb")
        c.run("dpkg -i --force-overwrite /root/squatter.deb")
        instance, seen = unit_instance(c), len(net.events)
        failed = apt_install(c, f"rosey-bot={V2}")
        assert failed.returncode != 0, failed.out
        assert f"trying to overwrite '{CONTESTED}', which is also in package rosey-squatter" in failed.out
        assert dpkg_state(c) == ("ii", V1)
        assert unit_instance(c) == instance, "the old bot was stopped or restarted by a failed unpack"
        assert net.since(seen) == [], f"the bot left its channel during a failed unpack: {net.since(seen)}"
        assert_ends_well(c, before)
        c.run("dpkg --purge rosey-squatter")

        # 2. A good upgrade: the old bot runs through the unpack; only postinst's restart interrupts it.
        c.write("/etc/dpkg/dpkg.cfg.d/e2e-hook", DPKG_HOOK)
        mark, seen = c.run("date +%s.%N").stdout.strip(), len(net.events)
        apt.install(c, f"rosey-bot={V2}")
        net.wait_for("join", "rosey", after=seen)
        unpacked = journal_times(c, mark, "-t e2e-dpkg", "finished unpack")
        stopping = journal_times(c, mark, "-u rosey-bot.service", "Stopping rosey-bot.service")
        assert unpacked and stopping, (unpacked, stopping)
        assert stopping[0] > unpacked[0], "the old bot was stopped before the new version was unpacked"
        assert len(stopping) == 1, f"the bot was stopped {len(stopping)} times during one upgrade"
        moves = [(kind, t) for kind, who, t in net.since(seen) if who == "rosey"]
        assert [kind for kind, _ in moves] == ["leave", "join"], moves
        gap = moves[1][1] - moves[0][1]
        print(f"e2e: during the upgrade {V1} -> {V2} the bot was out of its channel for {gap:.2f} s")
        assert_ends_well(c, before)

        # 3. A release that changes the unit file: the restarted bot runs the new definition.
        seen = len(net.events)
        apt.install(c, f"rosey-bot={UNITS}")
        show = c.run("systemctl show -p Environment -p NeedDaemonReload rosey-bot.service").stdout
        assert UNIT_CHANGE in show and "NeedDaemonReload=no" in show, show
        pid = unit_instance(c)["MainPID"]
        assert UNIT_CHANGE in c.run(f"tr '\\0' '\\n' </proc/{pid}/environ").stdout.split()
        assert assert_ends_well(c, before) == UNITS
        net.wait_for("join", "rosey", after=seen)


def test_failed_gate_and_killed_dpkg_recover(repository, base_rootfs):
    with Container(base_rootfs, "pkg-recover", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)
        apt.install(c, f"rosey-bot={V2}")
        apt.assert_running(c, V2)
        write_rows(c, "a")
        before = rows(c)

        # 1. The new release fails its health gate; the documented recovery is the previous version.
        failed = apt_install(c, f"rosey-bot={BROKEN}")
        assert failed.returncode != 0 and f"health check FAILED for {BROKEN}" in failed.out, failed.out
        assert dpkg_state(c) == ("iF", BROKEN)
        apt.install(c, f"rosey-bot={V2}", downgrade=True)
        assert assert_ends_well(c, before) == V2
        write_rows(c, "b")
        before = rows(c)

        # 2. dpkg killed in the middle of an upgrade's unpack: the old bot is untouched...
        instance = unit_instance(c)
        kill_dpkg_mid_unpack(c, UNITS)
        status, _ = dpkg_state(c)
        assert status.startswith("iH") or status.startswith("iU"), f"dpkg was not caught mid-unpack: {status}"
        assert unit_instance(c) == instance, "the old bot was stopped before the unpack"
        assert apt.health(c)["version"] == V2
        # ...`dpkg --configure -a`, as apt asks for, leaves a known version running...
        configure = c.run("dpkg --configure -a", check=False, env={"ROSEY_HEALTH_WAIT": "30"})
        print(f"e2e: after the killed unpack, dpkg --configure -a exited {configure.returncode}, state {dpkg_state(c)}")
        # dpkg still names the old version (half-installed, reinstall required), and that is what runs.
        assert dpkg_state(c) == ("iHR", V2)
        assert apt.health(c)["version"] == V2
        # ...and the interrupted command, run again, finishes the upgrade.
        apt.install(c, f"rosey-bot={UNITS}")
        assert assert_ends_well(c, before) == UNITS


def test_bot_not_started_on_purpose_says_why_in_one_line(repository, base_rootfs):
    with Container(base_rootfs, "pkg-nostart", binds={str(repository): "/srv/apt"}) as c:
        apt.add_repository(c)
        c.write("/etc/rosey-bot/config.toml", apt.TEST_CONFIG)

        def installs_without_starting(spec: str, why: str, downgrade: bool = False) -> None:
            proc = apt_install(c, spec, downgrade=downgrade)
            assert proc.returncode == 0, proc.out
            lines = not_started_lines(proc.out)
            assert len(lines) == 1 and why in lines[0], f"expected one line saying {why!r}:\n{proc.out}"
            assert "health check" not in proc.out, f"the gate ran for a bot that was not started:\n{proc.out}"
            assert dpkg_state(c) == ("ii", spec.split("=")[1])
            assert unit_instance(c)["ActiveState"] == "inactive"

        # 1. An image build's policy-rc.d forbids starting services: install and upgrade finish.
        c.write("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", mode="0755")
        installs_without_starting(f"rosey-bot={V1}", "policy-rc.d forbids starting services")
        installs_without_starting(f"rosey-bot={V2}", "policy-rc.d forbids starting services")
        c.run("rm /usr/sbin/policy-rc.d && systemctl start rosey-bot")
        apt.assert_running(c, V2)
        write_rows(c, "a")
        before = rows(c)

        # 2. The operator disabled the unit: downgrade and upgrade leave it alone.
        c.run("systemctl disable --now rosey-bot.service")
        installs_without_starting(f"rosey-bot={V1}", "rosey-bot.service is disabled", downgrade=True)
        installs_without_starting(f"rosey-bot={V2}", "rosey-bot.service is disabled")
        assert_ends_well(c, before, running=False)
        c.run("systemctl enable --now rosey-bot.service")
        apt.assert_running(c, V2)

        # 3. A password file only root can read: the precheck (as the service user) names it at once.
        c.write("/etc/rosey-bot/password", "s3cret\n", mode="0600")
        c.write(
            "/etc/rosey-bot/config.toml",
            apt.TEST_CONFIG + '[account]\nname = "rosey"\npassword_file = "/etc/rosey-bot/password"\n',
        )
        instance = unit_instance(c)
        started = time.monotonic()
        failed = apt_install(c, f"rosey-bot={UNITS}")
        took = time.monotonic() - started
        assert failed.returncode != 0, failed.out
        lines = not_started_lines(failed.out)
        assert len(lines) == 1 and "/etc/rosey-bot/password" in lines[0], failed.out
        assert "health check" not in failed.out, f"the gate waited for a bot that cannot start:\n{failed.out}"
        print(f"e2e: the config precheck failed the upgrade in {took:.1f} s")
        assert unit_instance(c) == instance, "the running bot must be left alone"
        assert dpkg_state(c) == ("iF", UNITS)
        # The recovery the message names.
        c.run("chgrp rosey-bot /etc/rosey-bot/password && chmod 0640 /etc/rosey-bot/password")
        c.run("dpkg --configure -a", env={"ROSEY_HEALTH_WAIT": "30"})
        assert assert_ends_well(c, before) == UNITS
        # The config directory is closed to other users (the password file lives there).
        assert c.run("stat -c '%a %U %G' /etc/rosey-bot").stdout.split() == ["750", "root", "rosey-bot"]
        assert c.run("runuser -u nobody -- cat /etc/rosey-bot/config.toml", check=False).returncode != 0

"""What the unhappy-path package tests share: the unit's identity, dpkg's view, and the common ending.

Every unhappy path must end with: the running bot's version equals what dpkg
says is installed (or the bot is deliberately stopped), dpkg has the package
configured, and every row written before is still there.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from tests.support import apt
from tests.support.botdata import assert_rows_kept, rows
from tests.support.container import Container

# As automation runs apt: no terminal, keep the operator's config.
APT = f"apt-get install -y -q {apt.KEEP_CONFIG}"
# Short, so a gate that should not run at all fails the test quickly instead of waiting 60 s.
FAST_GATE = {"ROSEY_HEALTH_WAIT": "10"}


def apt_install(c: Container, spec: str, downgrade: bool = False) -> subprocess.CompletedProcess:
    """apt-get install, not checked: the caller asserts on the outcome (stdout and stderr joined in .out)."""
    flags = "--allow-downgrades " if downgrade else ""
    proc = c.run(f"{APT} {flags}{spec} </dev/null", check=False, env=FAST_GATE)
    proc.out = proc.stdout + proc.stderr
    return proc


def unit_instance(c: Container) -> dict[str, str]:
    """The bot unit's MainPID and InvocationID: both change whenever systemd (re)starts it."""
    out = c.run("systemctl show -p MainPID -p InvocationID -p ActiveState rosey-bot.service").stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def dpkg_state(c: Container) -> tuple[str, str]:
    """(status abbreviation as `dpkg -l` shows it, e.g. 'ii' or 'iF', version) of rosey-bot."""
    out = c.run("dpkg-query -W -f '${db:Status-Abbrev}|${Version}' rosey-bot").stdout
    status, version = out.split("|")
    return status.strip(), version.strip()


def deb_in_repository(c: Container, version: str) -> str:
    """The path, inside the container, of rosey-bot ``version`` in the bind-mounted repository."""
    return c.run(f"find /srv/apt/pool -name {shlex.quote(f'rosey-bot_{version}_amd64.deb')}").stdout.strip()


def assert_ends_well(c: Container, before: dict, running: bool = True) -> str:
    """The common ending; returns the installed version."""
    status, version = dpkg_state(c)
    assert status == "ii", f"dpkg leaves rosey-bot {version} as {status!r}, not configured"
    if running:
        apt.assert_running(c, version)
    else:
        state = unit_instance(c)["ActiveState"]
        assert state in ("inactive", "failed"), f"rosey-bot should be deliberately stopped, is {state!r}"
    assert_rows_kept(before, rows(c))
    return version


def not_started_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "not started" in line or "not (re)started" in line]


def build_squatter(tmp: Path, path: str) -> Path:
    """A tiny package owning ``path`` (a file rosey-bot also ships): unpacking rosey-bot over it fails."""
    root = tmp / "squatter"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        "Package: rosey-squatter\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: tests <tests@invalid>\nDescription: owns a file rosey-bot also ships\n"
    )
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_text("not rosey-bot's\n")
    deb = tmp / "rosey-squatter_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True, capture_output=True)
    return deb


# Runs inside the container: dpkg -i DEB, let through only small slices of
# dpkg's run (SIGSTOP/SIGCONT) so the unpack is caught in the middle, then
# SIGKILL it once files of the new venv are half-unpacked (*.dpkg-new).
KILL_MID_UNPACK = r"""
import glob, os, signal, subprocess, sys, time
proc = subprocess.Popen(["dpkg", "-i", sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
site = glob.glob("/opt/venvs/rosey-bot/lib/python3*/site-packages")[0]

def unpacking():
    return any(f.endswith(".dpkg-new") for _, _, files in os.walk(site) for f in files)

deadline = time.monotonic() + 120
while proc.poll() is None and time.monotonic() < deadline:
    os.kill(proc.pid, signal.SIGSTOP)
    if unpacking():
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        print("killed")
        sys.exit(0)
    os.kill(proc.pid, signal.SIGCONT)
    time.sleep(0.002)
print("not killed: dpkg exited", proc.poll())
sys.exit(1)
"""


def kill_dpkg_mid_unpack(c: Container, version: str) -> None:
    deb = deb_in_repository(c, version)
    out = c.run(f"python3 -c {shlex.quote(KILL_MID_UNPACK)} {shlex.quote(deb)}").stdout
    assert out.strip() == "killed", out

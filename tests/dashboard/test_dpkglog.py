"""The dpkg log parser and Debian version ordering (no upstreams needed)."""

from __future__ import annotations

import gzip
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rosey_bot.dashboard.debversion import compare
from rosey_bot.dashboard.dpkglog import log_files, parse_lines, read_history
from tests.dashboard.dash_helpers import FIXTURES


def events(text: str, package: str = "rosey-bot"):
    return parse_lines(text.strip().splitlines(), package)


def test_fixture_history_newest_first_with_outcomes(tmp_path):
    for name in ("dpkg.log", "dpkg.log.1"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    history = read_history(tmp_path / "dpkg.log")
    got = [(e.time, e.action, e.from_version, e.to_version, e.completed) for e in history.events]
    assert got == [
        ("2026-11-26 10:00:00", "upgrade", "1.1.0", "1.2.1", True),
        ("2026-11-25 14:03:16", "downgrade", "1.2.0", "1.1.0", True),
        # The post-install health gate failed: dpkg left it half-configured.
        ("2026-11-25 14:02:12", "upgrade", "1.1.0", "1.2.0", False),
        ("2026-11-24 09:14:03", "install", None, "1.1.0", True),
        # From the rotated dpkg.log.1: older, so listed last.
        ("2026-10-30 17:46:00", "purge", "0.9.0", None, True),
        ("2026-10-30 17:45:10", "remove", "0.9.0", None, True),
        ("2026-10-02 08:00:01", "install", None, "0.9.0", True),
    ]
    assert (history.installed_version, history.status) == ("1.2.1", "installed")


def test_other_packages_and_noise_are_ignored():
    h = events(
        """
2026-11-26 10:00:00 install rosey-bot-extras:amd64 <none> 9.9
2026-11-26 10:00:01 status installed rosey-bot-extras:amd64 9.9
2026-11-26 10:00:02 install curl:amd64 <none> 7.88.1
garbage line
2026-11-26 10:00:03 conffile /etc/rosey-bot/config.toml keep
2026-11-26 10:00:04 trigproc man-db:amd64 2.11.2-2 <none>
"""
    )
    assert h.events == [] and h.installed_version is None and h.status is None


def test_package_without_architecture_and_reinstall():
    h = events(
        """
2026-11-26 10:00:00 upgrade rosey-bot 1.0.0 1.0.0
2026-11-26 10:00:01 status installed rosey-bot 1.0.0
"""
    )
    assert [(e.action, e.completed) for e in h.events] == [("reinstall", True)]


def test_removed_package_reports_no_installed_version():
    h = events(
        """
2026-11-26 10:00:00 install rosey-bot:amd64 <none> 1.0.0
2026-11-26 10:00:01 status installed rosey-bot:amd64 1.0.0
2026-11-26 11:00:00 remove rosey-bot:amd64 1.0.0 <none>
2026-11-26 11:00:01 status config-files rosey-bot:amd64 1.0.0
"""
    )
    assert [e.action for e in h.events] == ["remove", "install"]
    assert h.events[0].completed and h.events[0].to_version is None
    assert (h.installed_version, h.status) == (None, "config-files")


def test_interrupted_install_is_not_completed():
    h = events(
        """
2026-11-26 10:00:00 install rosey-bot:amd64 <none> 1.0.0
2026-11-26 10:00:01 status half-installed rosey-bot:amd64 1.0.0
"""
    )
    assert [(e.action, e.completed) for e in h.events] == [("install", False)]
    assert h.installed_version is None


def test_rotations_oldest_first_including_gzip(tmp_path):
    (tmp_path / "dpkg.log").write_text("2026-11-26 10:00:00 upgrade rosey-bot:amd64 1.1 1.2\n")
    (tmp_path / "dpkg.log.1").write_text("2026-11-20 10:00:00 upgrade rosey-bot:amd64 1.0 1.1\n")
    with gzip.open(tmp_path / "dpkg.log.2.gz", "wt") as fh:
        fh.write("2026-11-10 10:00:00 install rosey-bot:amd64 <none> 1.0\n")
    (tmp_path / "dpkg.log.old").write_text("2020-01-01 00:00:00 install rosey-bot:amd64 <none> 0.1\n")
    assert [p.name for p in log_files(tmp_path / "dpkg.log")] == ["dpkg.log.2.gz", "dpkg.log.1", "dpkg.log"]
    history = read_history(tmp_path / "dpkg.log")
    assert [e.to_version for e in history.events] == ["1.2", "1.1", "1.0"]
    assert [e.to_version for e in read_history(tmp_path / "dpkg.log", limit=2).events] == ["1.2", "1.1"]


def test_missing_log_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_history(tmp_path / "dpkg.log")


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1.0.0", "1.0.1", -1),
        ("1.10", "1.9", 1),
        ("1.0~rc1", "1.0", -1),
        ("1:0.1", "9.9", 1),
        ("1.0-1", "1.0-2", -1),
        ("1.0+git20260101", "1.0", 1),
        ("1.0a", "1.0", 1),
        ("1.2.0", "1.2.0", 0),
        ("0001.0", "1.0", 0),
    ],
)
def test_debian_version_order(a, b, want):
    assert compare(a, b) == want
    assert compare(b, a) == -want


_version = st.from_regex(r"\A([0-9]:)?[0-9][0-9a-z.+~]{0,8}(-[0-9a-z.+~]{1,5})?\Z")


@settings(max_examples=150, deadline=None)
@given(_version, _version)
def test_debian_version_order_agrees_with_dpkg(a, b):
    def dpkg(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0

    want = -1 if dpkg("lt") else 1 if dpkg("gt") else 0
    assert compare(a, b) == want, (a, b)

"""The real `rosey-bot run` process against the fake server: connects, reports healthy, stops on SIGTERM."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from rosey_bot import exitcodes
from rosey_bot.version import installed_version
from tests.support.net import free_port
from tests.support.waiting import wait_until


def test_rosey_bot_run_process(make_fake, tmp_path):
    fake = make_fake()
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nurl = "{fake.url}"\nchannel = "test"\n[account]\nname = "rosey"\n'
        f'[health]\nport = {port}\n[database]\npath = "{tmp_path / "rosey.db"}"\n'
    )
    cli = Path(sys.executable).parent / "rosey-bot"
    proc = subprocess.Popen([str(cli), "-c", str(config), "run"], stderr=subprocess.PIPE, text=True)
    try:

        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=20, what="the process to be in the channel")
        assert fake.logins == [("rosey", True)]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "in channel test as rosey" in err


BIN = Path(sys.executable).parent
PROGRAMS = ("rosey-bot", "rosey-healthcheck", "rosey-report", "rosey-dashboard")


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("program", PROGRAMS)
def test_help_version_and_usage_error_statuses(program):
    helped = run(program, "--help")
    assert helped.returncode == exitcodes.OK and helped.stdout.startswith(f"usage: {program}"), helped.stderr
    assert "--version" in helped.stdout
    versioned = run(program, "--version")
    assert (versioned.returncode, versioned.stdout) == (exitcodes.OK, f"{program} {installed_version()}\n")
    wrong = run(program, "--no-such-option")
    assert wrong.returncode == exitcodes.EX_USAGE, wrong.stderr
    assert wrong.stderr.splitlines()[-1] == f"{program}: error: unrecognized arguments: --no-such-option"


@pytest.mark.parametrize("subcommand", ["run", "check-config", "backup", "restore", "migrate", "db-info"])
def test_every_subcommand_has_help_and_version(subcommand):
    helped = run("rosey-bot", subcommand, "--help")
    assert helped.returncode == exitcodes.OK and helped.stdout.startswith(f"usage: rosey-bot {subcommand}")
    versioned = run("rosey-bot", subcommand, "--version")
    assert (versioned.returncode, versioned.stdout) == (exitcodes.OK, f"rosey-bot {installed_version()}\n")


def test_unreachable_targets_exit_unavailable():
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    health = run("rosey-healthcheck", "--url", f"{closed}/api/health", "--wait", "1")
    assert health.returncode == exitcodes.EX_UNAVAILABLE, health.stderr
    [line] = health.stderr.splitlines()  # one line naming what did not answer
    assert line.startswith("rosey-healthcheck: FAILED after 1s: ") and closed in line, line
    report = run("rosey-report", "--prometheus", closed)
    assert report.returncode == exitcodes.EX_UNAVAILABLE, report.stderr
    [line] = report.stderr.splitlines()
    assert line.startswith("rosey-report: ") and "Prometheus" in line and closed in line, line


def test_healthcheck_answered_but_not_as_asked_is_a_plain_failure(make_fake):
    """Something answers, but it is not the health endpoint: 1, not 69 (the bot may be up, and wrong)."""
    fake = make_fake()
    res = run("rosey-healthcheck", "--url", f"{fake.url}/no-such-page")
    assert res.returncode == exitcodes.FAILURE, res.stderr

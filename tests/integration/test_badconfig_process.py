"""Bad configs against the real `rosey-bot` and `rosey-dashboard` processes.

Each must end with ONE line on stderr naming the file and the key, and exit 78
(EX_CONFIG): the units carry RestartPreventExitStatus=78, so anything else
(a traceback and exit 1) makes systemd restart-loop a service that cannot work.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
EX_CONFIG = 78
# Room for a slow, shared machine; a process that hangs (a FIFO, /dev/zero) fails the test.
TIMEOUT = 30

SERVER = '[server]\nurl = "http://127.0.0.1:9"\nchannel = "test"\n'


@pytest.fixture
def busy_port():
    """A port some other process listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    database = "" if "[database]" in body else f'[database]\npath = "{tmp_path / "rosey.db"}"\n'
    path.write_text(SERVER + database + body)
    return path


def run(argv: list[str]) -> tuple[int, list[str]]:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return res.returncode, res.stderr.splitlines()


def assert_one_line(argv: list[str], prefix: str, words: str) -> str:
    code, err = run(argv)
    assert len(err) == 1, f"exit {code}, stderr:\n" + "\n".join(err[-20:])
    assert err[0].startswith(prefix), err[0]
    assert words in err[0], err[0]
    assert code == EX_CONFIG, err[0]
    return err[0]


def bot(config: Path, command: str = "run") -> list[str]:
    return [str(BIN / "rosey-bot"), "--config", str(config), command]


def dashboard(config: Path, *extra: str) -> list[str]:
    return [str(BIN / "rosey-dashboard"), "--config", str(config), *extra]


def nested(depth: int) -> str:
    return "[bot]\ncommand_prefix = " + "[" * depth + "]" * depth + "\n"


# (config body, key in the message, words in the message)
BOT_CASES = {
    "unresolvable health.host": ('[health]\nhost = "no-such-host.invalid"\n', "health.host", "cannot resolve"),
    "health.host not on this machine": ('[health]\nhost = "192.0.2.1"\n', "health.host", "not an address"),
    "empty health.host": ('[health]\nhost = ""\n', "health.host", "must not be empty"),
    "deeply nested value": (nested(100_000), None, "nested too deeply"),
    "integer past Python's digit limit": (f"[health]\nport = {'9' * 5000}\n", None, "out of range"),
    "huge number in a float key": (f"[bot]\nresponse_timeout = {'9' * 400}\n", "bot.response_timeout", "range"),
    "newline in an unknown key": ('[bot]\n"x\\ny" = 1\n', "bot.x\\ny", "unknown key"),
    "over-long string": (f'[server]\nchannel_password = "{"p" * 5000}"\n', "server.channel_password", "longer"),
    "health and dashboard on one port": (
        '[health]\nhost = "0.0.0.0"\nport = 5000\n[dashboard]\nport = 5000\n',
        "dashboard.port",
        "own port",
    ),
    "relative database path": ('[database]\npath = "rosey.db"\n', "database.path", "absolute"),
}


@pytest.mark.parametrize("command", ["run", "check-config"])
@pytest.mark.parametrize("case", BOT_CASES, ids=list(BOT_CASES))
def test_bot_bad_config_is_one_line_and_78(tmp_path, case, command):
    body, key, words = BOT_CASES[case]
    if "[server]" in body:  # a second [server] table would be a TOML error of its own
        config = tmp_path / "config.toml"
        config.write_text(body.replace("[server]\n", SERVER))
    else:
        config = write_config(tmp_path, body)
    where = f"{config}: {key}: " if key else f"{config}: "
    assert_one_line(bot(config, command), f"rosey-bot: config error: {where}", words)


def test_bot_health_port_in_use_is_one_line_and_78(tmp_path, busy_port):
    config = write_config(tmp_path, f"[health]\nport = {busy_port}\n")
    assert_one_line(bot(config), f"rosey-bot: config error: {config}: health.port: ", "already in use")


def test_database_path_that_is_a_directory_is_one_line_and_78(tmp_path):
    config = write_config(tmp_path, "")
    config.write_text(config.read_text().replace(str(tmp_path / "rosey.db"), str(tmp_path)))
    assert_one_line(bot(config), f"rosey-bot: config error: {config}: database.path: ", "is a directory")


def test_check_config_refuses_a_privileged_port(tmp_path):
    # The service runs without CAP_NET_BIND_SERVICE; check-config (often run as root) must say so.
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    assert start > 80, "this test needs the kernel's default of privileged ports below 1024"
    config = write_config(tmp_path, "[health]\nport = 80\n")
    assert_one_line(bot(config, "check-config"), f"rosey-bot: config error: {config}: health.port: ", "privileged")


def test_config_that_is_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert_one_line(bot(fifo, "check-config"), f"rosey-bot: config error: {fifo}: ", "not a regular file")


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p.write_bytes(b"\xff\xfe\xfa"), "not valid UTF-8"),
        (lambda p: p.write_text("line one\nline two\n"), "one line"),
        (lambda p: os.mkfifo(p), "not a regular file"),  # would block start-up forever
        (lambda p: p.write_bytes(b"x" * 10_000), "larger than"),
    ],
    ids=["not-utf8", "two-lines", "fifo", "huge"],
)
def test_bad_password_file_is_one_line_and_78(tmp_path, make, words):
    secret = tmp_path / "password"
    make(secret)
    config = write_config(tmp_path, f'[account]\nname = "rosey"\npassword_file = "{secret}"\n')
    prefix = f"rosey-bot: config error: {config}: account.password_file: "
    assert_one_line(bot(config), prefix, words)


def test_dashboard_port_in_use_is_one_line_and_78(tmp_path, busy_port):
    config = write_config(tmp_path, f"[dashboard]\nport = {busy_port}\n")
    assert_one_line(dashboard(config), f"rosey-dashboard: {config}: dashboard.port: ", "already in use")


def test_dashboard_port_in_use_given_on_the_command_line_names_the_flag(tmp_path, busy_port):
    config = write_config(tmp_path, "")
    assert_one_line(dashboard(config, "--port", str(busy_port)), "rosey-dashboard: ", "--port: ")


@pytest.mark.parametrize(
    "body, key, words",
    [
        ('[dashboard]\nhost = "no-such-host.invalid"\n', "dashboard.host", "cannot resolve"),
        (nested(100_000), None, "nested too deeply"),
    ],
    ids=["unresolvable-host", "deeply-nested"],
)
def test_dashboard_bad_config_is_one_line_and_78(tmp_path, body, key, words):
    config = write_config(tmp_path, body)
    where = f"{config}: {key}: " if key else f"{config}: "
    assert_one_line(dashboard(config), f"rosey-dashboard: {where}", words)


@pytest.fixture
def world_traversable_dir():
    """A directory another user can enter (pytest's tmp_path is 0700, root's own)."""
    path = Path(tempfile.mkdtemp(prefix="rosey-badconfig-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_check_config_as_the_service_user_catches_a_password_file_only_root_reads(world_traversable_dir):
    # The package scripts run check-config as root; the service runs as its own user.
    assert os.geteuid() == 0, "this test checks as another user: run it as root"
    secret = world_traversable_dir / "password"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    config = write_config(world_traversable_dir, f'[account]\nname = "rosey"\npassword_file = "{secret}"\n')
    config.chmod(0o644)
    assert run(bot(config, "check-config"))[0] == 0  # root reads it: that is the trap
    prefix = f"rosey-bot: config error: {config}: account.password_file: "
    line = assert_one_line(bot(config, "check-config") + ["--user", "nobody"], prefix, "Permission denied")
    assert line.endswith("(as user nobody)")

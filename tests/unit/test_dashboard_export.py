"""``rosey-dashboard --export-config``: the dashboard's copy of the bot's config, taken by its unit as root.

Every layer counts as it does for the bot (a drop-in's [health] port wins), no secret reaches the
file, and a bad config exits 78 with one line and writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rosey_bot import config, exitcodes
from rosey_bot.dashboard import cli, snapshot

SCRIPT = Path(sys.executable).parent / "rosey-dashboard"
MAIN = """
[server]
url = "https://cytube.example"
channel = "lobby"
[health]
port = 8001
[dashboard]
refresh_seconds = 30
"""


@pytest.fixture
def etc(tmp_path):
    """An /etc/rosey-bot of the bot's layers, and an empty runtime directory beside it."""
    (tmp_path / "etc/conf.d").mkdir(parents=True)
    (tmp_path / "etc/config.toml").write_text(MAIN)
    (tmp_path / "run").mkdir()
    return tmp_path / "etc"


def dropin(etc: Path, name: str, text: str) -> Path:
    path = etc / "conf.d" / name
    path.write_text(text)
    return path


def export(etc: Path, *extra: str) -> tuple[int, Path]:
    target = etc.parent / "run/config.toml"
    return cli.main(["--config", str(etc / "config.toml"), "--export-config", str(target), *extra]), target


def test_a_dropin_wins_for_the_dashboard_as_for_the_bot(etc, capsys):
    (etc / "debconf.toml").write_text('[server]\nurl = "https://debconf.example"\nchannel = "answered"\n')
    dropin(etc, "10-local.toml", '[health]\nport = 8002\n[dashboard]\nprometheus_url = "http://127.0.0.1:9191"\n')
    fleet = dropin(etc, "50-fleet.toml", '[health]\nhost = "0.0.0.0"\nport = 8123\n')
    status, target = export(etc)
    assert (status, capsys.readouterr().err) == (exitcodes.OK, "")

    bot = config.load(etc / "config.toml")
    dashboard = cli.load_config(target)  # what ExecStart= reads
    assert dashboard.bot_health_url == bot.health.url == "http://127.0.0.1:8123"
    assert (dashboard.health, dashboard.dashboard) == (bot.health, bot.dashboard)
    assert dashboard.dashboard.refresh_seconds == 30 and dashboard.dashboard.prometheus_url == "http://127.0.0.1:9191"
    # Each key names the file that set it, for the operator who reads the copy.
    text = target.read_text()
    assert f"health.port = 8123  # {fleet}\n" in text
    assert f"dashboard.refresh_seconds = 30  # {etc / 'config.toml'}\n" in text
    assert 'dashboard.alertmanager_url = "http://127.0.0.1:9093"  # default\n' in text
    # Only what the dashboard reads: nothing of [server], not even debconf's answers.
    assert "server." not in text and "debconf.example" not in text and "lobby" not in text


def test_no_secret_reaches_the_copy_even_from_a_dropin(etc, tmp_path):
    password = tmp_path / "no-such-password-file"
    dropin(
        etc,
        "90-secrets.toml",
        f'[server]\nchannel_password = "chan-pw-S3CRET"\n[account]\nname = "acctname"\npassword_file = "{password}"\n',
    )
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(etc / "config.toml")  # the bot opens the password file...
    status, target = export(etc)  # ...the export never does
    assert status == exitcodes.OK
    text = target.read_text()
    for secret in ("S3CRET", "channel_password", "password_file", str(password), "acctname"):
        assert secret not in text


def test_a_bad_config_exits_78_in_one_line_and_leaves_no_copy(etc):
    bad = dropin(etc, "50-fleet.toml", "[health]\nport = 0\n")
    target = etc.parent / "run/config.toml"
    target.write_text("# the copy of the last good start\n")
    res = subprocess.run(
        [str(SCRIPT), "--config", str(etc / "config.toml"), "--export-config", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == exitcodes.EX_CONFIG == 78
    # The line names the drop-in that set the key, not the main file.
    assert res.stderr == f"rosey-dashboard: {bad}: health.port: must be between 1 and 65535\n"
    assert res.stdout == ""
    # No copy at all: not a half-written one, and not the last good one to serve an old config from.
    assert list(target.parent.iterdir()) == []


def test_a_broken_dropin_leaves_no_file_at_all(etc, capsys):
    dropin(etc, "50-fleet.toml", "[health\nport = 8123\n")
    status, target = export(etc)
    err = capsys.readouterr().err
    assert status == 78 and err.count("\n") == 1 and "50-fleet.toml: TOML syntax error" in err
    assert list(target.parent.iterdir()) == []


def test_an_unwritable_target_exits_1_in_one_line(etc, capsys):
    target = etc.parent / "missing-dir/config.toml"
    status = cli.main(["--config", str(etc / "config.toml"), "--export-config", str(target)])
    assert (status, capsys.readouterr().err) == (
        exitcodes.FAILURE,
        f"rosey-dashboard: cannot write {target}: No such file or directory\n",
    )


def test_the_copy_is_0640_with_the_group_of_its_directory(etc):
    # Under systemd the directory is the dynamic user's, and the root export's file must be readable by it.
    os.chown(etc.parent / "run", 4242, 4343)
    status, target = export(etc)
    st = target.stat()
    assert status == 0 and (st.st_mode & 0o777, st.st_gid) == (0o640, 4343)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dpkg_log", '/var/log/d\\"p\\\\k\\u00e9g \\u007f\\u2028.log'),  # quote, backslash, é, DEL, U+2028
        ("prometheus_url", "http://user:p%40ss@127.0.0.1:9090/prom#x"),
        ("bot_health_url", "http://[::1]:8123/"),
    ],
)
def test_the_copy_reads_back_as_the_same_values(etc, key, value):
    dropin(etc, "50-odd.toml", f'[health]\nhost = "::"\n[dashboard]\n{key} = "{value}"\n')
    # A drop-in whose name holds a newline: only a comment in the copy, which must stay one.
    dropin(etc, "60-new\nline.toml", "[dashboard]\nrefresh_seconds = 7\n")
    status, target = export(etc)
    assert status == 0
    original = config.load(etc / "config.toml", secrets=False)
    copy = cli.load_config(target)
    for section in snapshot.SECTIONS:
        assert getattr(copy, section) == getattr(original, section)
    assert copy.bot_health_url == original.bot_health_url


def test_host_and_port_are_not_for_the_export(etc, capsys):
    with pytest.raises(SystemExit) as exc:
        export(etc, "--port", "5001")
    assert exc.value.code == exitcodes.EX_USAGE
    assert "not with --export-config" in capsys.readouterr().err

"""Config validation (docs/DESIGN.md, Validation): every problem names the file and the key; exit 78."""

import pytest

from rosey_bot import cli, config
from tests.support.net import free_port

GOOD = """
[server]
url = "https://cytube.example"
channel = "lobby"
[bot]
response_timeout = 3
"""


def write(tmp_path, text: str):
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_defaults_and_int_to_float(tmp_path):
    cfg = config.load(write(tmp_path, GOOD))
    assert cfg.configured
    assert cfg.bot.response_timeout == 3.0 and isinstance(cfg.bot.response_timeout, float)
    assert (cfg.health.host, cfg.health.port) == ("127.0.0.1", 8000)
    assert cfg.database.path == "/var/lib/rosey-bot/rosey.db"


def test_shipped_default_config_is_valid_but_unconfigured():
    cfg = config.load("packaging/config.toml")
    assert not cfg.configured
    assert cfg.bot.response_timeout == 3.0


@pytest.mark.parametrize(
    "text, key, words",
    [
        ("[server\n", None, "TOML syntax error"),
        ("[nope]\n", "nope", "unknown section"),
        ("[bot]\ncolour = 1\n", "bot.colour", "unknown key"),
        ("[bot]\nresponse_timeout = 'fast'\n", "bot.response_timeout", "must be float"),
        ("[bot]\nresponse_timeout = 0\n", "bot.response_timeout", "> 0"),
        ("[bot]\nresponse_timeout = 61\n", "bot.response_timeout", "<= 60"),
        ("[bot]\nresponse_timeout = nan\n", "bot.response_timeout", "> 0"),
        ("[health]\nport = true\n", "health.port", "must be int"),
        ("[health]\nport = 70000\n", "health.port", "between 1 and 65535"),
        ("[server]\nurl = 'ftp://x'\nchannel = 'a'\n", "server.url", "http"),
        ("[server]\nurl = 'http://x'\n", "server.channel", "required"),
        ("[server]\nurl = 'http://x'\nchannel = 'bad name!'\n", "server.channel", "1-30"),
        ("[account]\nname = 'x'\npassword_file = '/nonexistent/pw'\n", "account.password_file", "cannot read"),
        ("[log]\nlevel = 'LOUD'\n", "log.level", "one of"),
        ("server = 1\n", "server", "must be a table"),
        ("[health]\nhost = 'bad host!'\n", "health.host", "IP address"),
        ("[dashboard]\nhost = ''\n", "dashboard.host", "must not be empty"),
        ("[bot]\ncommand_prefix = " + "[" * 5000 + "]" * 5000 + "\n", None, "nested too deeply"),
        (f"[bot]\nresponse_timeout = {'9' * 400}\n", "bot.response_timeout", "out of range"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    msg = str(err.value)
    assert str(path) in msg and words in msg
    assert err.value.key == key


def test_bad_config_exits_78_with_one_line(tmp_path, capsys):
    path = write(tmp_path, "[bot]\nresponse_timeout = -1\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["-c", str(path), "check-config"])
    assert exc.value.code == config.EX_CONFIG
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bot.response_timeout" in err and str(path) in err


def test_run_refuses_an_unconfigured_file_with_78(tmp_path, capsys):
    assert cli.main(["-c", "packaging/config.toml", "run"]) == config.EX_CONFIG
    assert "server.url" in capsys.readouterr().err


def test_check_config_require_server(tmp_path, capsys):
    assert cli.main(["-c", "packaging/config.toml", "check-config", "--require-server"]) == config.EX_CONFIG
    assert cli.main(["-c", str(write(tmp_path, GOOD)), "check-config", "--require-server", "-q"]) == 0


def test_password_file_is_read_and_never_shown(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("hunter2-very-secret\n")
    cfg = config.load(write(tmp_path, GOOD + f"[account]\nname = 'rosey'\npassword_file = '{secret}'\n"))
    assert cfg.account.password == "hunter2-very-secret"
    assert "hunter2" not in repr(cfg)


def test_password_file_from_systemd_credentials(tmp_path, monkeypatch):
    (tmp_path / "account-password").write_text("s3cret")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    cfg = config.load(write(tmp_path, GOOD + "[account]\nname = 'rosey'\npassword_file = 'account-password'\n"))
    assert cfg.account.password == "s3cret"


def test_missing_file(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(tmp_path / "absent.toml")


def test_unopenable_database_is_one_line_not_a_traceback(tmp_path, capsys):
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"this is not an sqlite database, just bytes" * 100)
    path = write(tmp_path, GOOD + f"[health]\nport = {free_port()}\n[database]\npath = '{foreign}'\n")
    assert cli.main(["-c", str(path), "run"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rosey-bot: database error: ") and str(foreign) in err[-1]
    assert not any("Traceback" in line for line in err)

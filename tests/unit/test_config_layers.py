"""The config layers: debconf's answers are the base, config.toml overrides them, conf.d/*.toml
override both in name order, per key within a table; check-config --sources names each key's file."""

from __future__ import annotations

import pytest

from rosey_bot import answers, cli, config, layers
from tests.support.paths import ROOT

MAIN = """
[server]
channel = "from-main"
[log]
level = "WARNING"
"""
DEBCONF = """
[server]
url = "http://debconf.example"
channel = "from-debconf"
[account]
name = "debconfname"
"""


@pytest.fixture
def etc(tmp_path):
    (tmp_path / "config.toml").write_text(MAIN)
    return tmp_path


def test_debconf_is_the_base_and_config_toml_wins_per_key(etc):
    (etc / "debconf.toml").write_text(DEBCONF)
    cfg, merged = config.load_layered(etc / "config.toml")
    # url only in debconf's layer: kept; channel in both: the operator's file wins.
    assert cfg.server.url == "http://debconf.example"
    assert cfg.server.channel == "from-main"
    assert cfg.account.name == "debconfname"
    assert merged.origin["server.url"] == etc / "debconf.toml"
    assert merged.origin["server.channel"] == etc / "config.toml"


def test_dropins_are_read_after_config_toml_in_name_order(etc):
    (etc / "debconf.toml").write_text(DEBCONF)
    dropins = etc / "conf.d"
    dropins.mkdir()
    (dropins / "20-b.toml").write_text('[server]\nchannel = "from-20"\n')
    (dropins / "10-a.toml").write_text('[server]\nchannel = "from-10"\n[log]\nlevel = "DEBUG"\n')
    (dropins / "30-c.toml.dpkg-old").write_text('[server]\nchannel = "ignored"\n')
    (dropins / ".99-hidden.toml").write_text('[server]\nchannel = "ignored"\n')
    assert [p.name for p in layers.files(etc / "config.toml")] == [
        "debconf.toml",
        "config.toml",
        "10-a.toml",
        "20-b.toml",
    ]
    cfg, merged = config.load_layered(etc / "config.toml")
    assert cfg.server.channel == "from-20" and merged.origin["server.channel"] == dropins / "20-b.toml"
    assert cfg.log.level == "DEBUG" and merged.origin["log.level"] == dropins / "10-a.toml"
    assert cfg.server.url == "http://debconf.example"


def test_an_error_names_the_file_that_set_the_key(etc):
    (etc / "conf.d").mkdir()
    (etc / "conf.d/50-mine.toml").write_text("[bot]\nresponse_timeout = 99\n")
    with pytest.raises(config.ConfigError) as err:
        config.load(etc / "config.toml")
    assert str(err.value).startswith(f"{etc}/conf.d/50-mine.toml: bot.response_timeout: ")
    (etc / "conf.d/50-mine.toml").write_text("[bot\n")
    with pytest.raises(config.ConfigError, match="50-mine.toml: TOML syntax error"):
        config.load(etc / "config.toml")


def test_url_in_one_layer_and_channel_in_another_make_a_configured_bot(etc):
    (etc / "config.toml").write_text("")
    (etc / "debconf.toml").write_text('[server]\nurl = "http://a.example"\nchannel = "x"\n')
    (etc / "conf.d").mkdir()
    (etc / "conf.d/10.toml").write_text('[server]\nchannel = "y"\n')
    cfg = config.load(etc / "config.toml")
    assert (cfg.server.url, cfg.server.channel) == ("http://a.example", "y") and cfg.configured


def test_check_config_sources_names_each_file(etc, capsys):
    (etc / "debconf.toml").write_text(DEBCONF)

    assert cli.main(["-c", str(etc / "config.toml"), "check-config", "--sources", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f'server.url = "http://debconf.example"  # {etc}/debconf.toml' in lines
    assert f'server.channel = "from-main"  # {etc}/config.toml' in lines
    assert f'log.level = "WARNING"  # {etc}/config.toml' in lines
    assert "health.port = 8000  # default" in lines
    assert len(lines) == sum(len(keys) for _cls, keys in config.SCHEMA.values())


def test_sources_never_show_the_channel_password(etc, capsys):
    (etc / "config.toml").write_text('[server]\nchannel_password = "hunter2"\n')
    assert cli.main(["-c", str(etc / "config.toml"), "check-config", "--sources", "-q"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "server.channel_password = (set)" in out


def test_shipped_config_leaves_debconfs_keys_to_debconf(tmp_path):
    """The conffile must not set the keys debconf answers, or its empty values would hide the answers."""
    (tmp_path / "config.toml").write_text((ROOT / "packaging/config.toml").read_text())
    (tmp_path / "debconf.toml").write_text(DEBCONF)
    cfg = config.load(tmp_path / "config.toml")
    assert (cfg.server.url, cfg.server.channel, cfg.account.name) == (
        "http://debconf.example",
        "from-debconf",
        "debconfname",
    )


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("server.url", "cytu.be", "http://"),
        ("server.channel", "no spaces", "1-30 characters"),
        ("server.channel", "x" * 31, "1-30 characters"),
        ("account.name", "a.b", "1-20 characters"),
        ("server.url", "http://a\tb", "one line"),
    ],
)
def test_answers_are_checked_by_the_config_rules(key, value, words):
    assert words in answers.check(key, value)


@pytest.mark.parametrize(
    "key, value", [("server.url", "https://cytu.be"), ("server.channel", "my_chan-1"), ("account.name", "")]
)
def test_good_answers_pass(key, value):
    assert answers.check(key, value) is None


def test_owner_is_the_operators_file_never_debconfs(etc):
    (etc / "debconf.toml").write_text(DEBCONF)
    assert answers.owner("server.url", etc / "config.toml") is None
    assert answers.owner("server.channel", etc / "config.toml") == etc / "config.toml"
    (etc / "conf.d").mkdir()
    (etc / "conf.d/10.toml").write_text('[server]\nurl = "http://mine.example"\n')
    assert answers.owner("server.url", etc / "config.toml") == etc / "conf.d/10.toml"


def test_owners_lists_every_asked_key_an_operator_sets_one_line_each(etc, capsys):
    """The debconf config script reads these lines once instead of asking once per key."""
    (etc / "debconf.toml").write_text(DEBCONF)
    (etc / "conf.d").mkdir()
    (etc / "conf.d/10 mine.toml").write_text('[server]\nurl = "http://mine.example"\n[account]\npassword_file = "/p"\n')
    assert answers.main(["owners", "--config", str(etc / "config.toml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"server.url {etc / 'conf.d/10 mine.toml'}",
        f"server.channel {etc / 'config.toml'}",
        f"account.password_file {etc / 'conf.d/10 mine.toml'}",
    ]
    for key in answers.ASKED:
        assert answers.owner(key, etc / "config.toml") == answers.owners(etc / "config.toml").get(key)


def test_layer_text_round_trips_and_is_empty_without_answers(tmp_path):
    assert answers.layer_text("", "", "", "") == ""
    assert answers.layer_text("http://a.example", "", "", "") == "", "a url without a channel is no server"
    text = answers.layer_text('http://a.example/"x"', "chan", "me", "/etc/rosey-bot/password")
    (tmp_path / "config.toml").write_text("")
    answers.write_layer(tmp_path / "debconf.toml", text)
    (tmp_path / "password").write_text("pw\n")
    text = text.replace("/etc/rosey-bot/password", str(tmp_path / "password"))
    answers.write_layer(tmp_path / "debconf.toml", text)
    cfg = config.load(tmp_path / "config.toml")
    assert cfg.server.url == 'http://a.example/"x"' and cfg.account.password == "pw"
    assert oct((tmp_path / "debconf.toml").stat().st_mode & 0o777) == "0o640"
    answers.write_layer(tmp_path / "debconf.toml", "")
    assert not (tmp_path / "debconf.toml").exists()


def test_current_is_debconfs_own_value_only(etc):
    assert answers.current("server.url", etc / "config.toml") == ""
    (etc / "debconf.toml").write_text(DEBCONF)
    assert answers.current("server.url", etc / "config.toml") == "http://debconf.example"
    assert answers.current("server.channel", etc / "config.toml") == "from-debconf"


def test_a_drop_in_directory_that_cannot_be_listed_is_one_config_error(etc):
    (etc / "conf.d").symlink_to("conf.d")  # a loop: listing it fails even for root
    with pytest.raises(config.ConfigError, match=r"conf.d: cannot read: Too many levels of symbolic links"):
        config.load(etc / "config.toml")

"""Facts shared by several programs have one owner, and the callers agree with it.

- the health fields: health_contract.FIELDS (the endpoint builds from it, the dashboard shows it);
- the address a client uses to reach the health server: config.HealthConfig.url;
- the channel-name rule: protocol.discovery (config validates with it);
- reading the config: config.load, with its layers, for the bot, the dashboard and the health check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rosey_bot import config, health_contract, healthcheck
from rosey_bot.dashboard import upstream
from rosey_bot.dashboard.cli import load_config
from rosey_bot.http.health import HealthServer, create_app
from rosey_bot.protocol import ProtocolError, socketconfig_url
from rosey_bot.protocol.discovery import CHANNEL_RULE, valid_channel
from rosey_bot.state import BotState

ROOT = Path(__file__).resolve().parents[2]
OWNER = ROOT / "src/rosey_bot/health_contract.py"


def literal_lists(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            yield node.lineno, node.elts
        elif isinstance(node, ast.Dict):
            yield node.lineno, [k for k in node.keys if k is not None]


def test_no_second_list_of_the_health_fields():
    fields = set(health_contract.FIELDS)
    copies = []
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        if path == OWNER:
            continue
        for lineno, elements in literal_lists(ast.parse(path.read_text(), str(path))):
            named = {e.value for e in elements if isinstance(e, ast.Constant) and e.value in fields}
            if len(named) >= 3:  # two may be a coincidence ("status", "version"); three are a list
                copies.append(f"{path.relative_to(ROOT)}:{lineno}: {sorted(named)}")
    assert not copies, "import rosey_bot.health_contract instead of listing the health fields again:\n" + "\n".join(
        copies
    )


def test_the_check_above_sees_a_copy(tmp_path):
    # The scan itself can fail: a copied list is found.
    copy = ast.parse('SHOWN = ("status", "connected", "user_count")')
    assert any(len(elements) == 3 for _, elements in literal_lists(copy))


def test_the_dashboard_shows_exactly_the_fields_the_endpoint_answers():
    state = BotState("9.9.9-test", "lobby", 300)
    server = HealthServer(create_app(state), "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        answered = set(create_app(state).test_client().get(health_contract.HEALTH_PATH).get_json())
        shown = upstream.bot_health(base)  # over HTTP, as the dashboard reads it (503: not connected)
    finally:
        server.stop()
    assert answered == {*health_contract.FIELDS, health_contract.STORAGE}
    assert set(shown) == answered - {health_contract.STORAGE}
    assert shown["channel"] == "lobby" and shown["version"] == "9.9.9-test"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123"),
        ("0.0.0.0", "http://127.0.0.1:8123"),  # a wildcard bind is reached over loopback
        ("::", "http://[::1]:8123"),
        ("::1", "http://[::1]:8123"),
        ("192.0.2.7", "http://192.0.2.7:8123"),
        ("bot.example.org", "http://bot.example.org:8123"),
    ],
)
def test_health_url_is_derived_once_for_the_dashboard_and_the_health_check(tmp_path, host, url):
    path = tmp_path / "config.toml"
    path.write_text(f'[health]\nhost = "{host}"\nport = 8123\n')
    assert config.HealthConfig(host=host, port=8123).url == url
    assert load_config(path).bot_health_url == url
    assert healthcheck._default_url(str(path)) == url + health_contract.HEALTH_PATH


def test_health_check_without_a_usable_config_asks_the_default_address(tmp_path):
    assert healthcheck._default_url(str(tmp_path / "missing.toml")) == "http://127.0.0.1:8000/api/health"


@pytest.mark.parametrize("name", ["lobby", "a", "x" * 30, "with-dash_and_9", "x" * 31, "", "no spaces", "../etc", "é"])
def test_config_and_discovery_apply_the_same_channel_rule(name):
    data = {"server": {"url": "https://cytube.example", "channel": name}}
    try:
        socketconfig_url("https://cytube.example", name)
        discovery_ok = True
    except ProtocolError as exc:
        discovery_ok = False
        assert CHANNEL_RULE in str(exc)
    if name == "":  # empty means "not configured yet", which config rejects for its own reason
        with pytest.raises(config.ConfigError, match="is required"):
            config.parse(data)
        return
    try:
        config.parse(data)
        config_ok = True
    except config.ConfigError as exc:
        config_ok = False
        assert exc.key == "server.channel" and CHANNEL_RULE in str(exc)
    assert config_ok == discovery_ok == valid_channel(name)


def test_the_dashboard_reads_the_same_layers_as_the_bot_but_no_secret(tmp_path):
    main = tmp_path / "config.toml"
    main.write_text('[server]\nurl = "https://cytube.example"\nchannel = "lobby"\n')
    (tmp_path / "conf.d").mkdir()
    # A drop-in moves the health port and names a password file that does not exist.
    (tmp_path / "conf.d/50-local.toml").write_text(
        '[health]\nport = 8124\n[account]\nname = "rosey"\npassword_file = "/nonexistent/pw"\n'
    )
    with pytest.raises(config.ConfigError, match="cannot read /nonexistent/pw"):
        config.load(main)  # the bot needs the secret
    dashboard = load_config(main)  # the dashboard never opens it
    assert dashboard.bot_health_url == "http://127.0.0.1:8124"
    assert dashboard.account.password == "" and dashboard.account.password_file == ""


def test_only_config_py_parses_toml_and_builds_a_config_from_it():
    # config.load (with its layers) is the one way from files to a Config; read_toml alone
    # (answers.py reads single layers that way) never makes a Config.
    offenders = []
    for path in (ROOT / "src").rglob("*.py"):
        if path.name == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            imported = isinstance(node, ast.Import | ast.ImportFrom) and (
                any(a.name == "tomllib" for a in node.names)
                or (
                    isinstance(node, ast.ImportFrom)
                    and (node.module or "").endswith("config")
                    and any(a.name == "parse" for a in node.names)
                )
            )
            called = (
                isinstance(node, ast.Attribute)
                and node.attr == "parse"
                and getattr(node.value, "id", "") in ("config", "config_mod")
            )
            if imported or called:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"load the config with rosey_bot.config.load: {offenders}"

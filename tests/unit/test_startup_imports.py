"""The commands the package scripts run on every configure start without the bot's heavy libraries.

postinst runs ``rosey-bot check-config``, the debconf config script runs ``python -m
rosey_bot.answers`` once and then once per answer, and rosey-dashboard.service runs ``--export-config`` before
every start. None of them needs asyncio, websockets, requests or Flask; importing those cost each
command about half a second of CPU (measured with ``-X importtime``), paid many times per install.
Each case runs in a fresh interpreter and lists which of those modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("asyncio", "websockets", "requests", "flask", "werkzeug", "waitress", "prometheus_client")

CONFIG = """
[server]
url = "https://cytube.example"
channel = "lobby"
[database]
path = "{db}"
"""

# name -> Python statements run with ``cfg`` (the config path) and ``out`` (a scratch path) defined.
CASES = {
    "rosey-bot check-config": "from rosey_bot import cli; rc = cli.main(['--config', cfg, 'check-config', '--quiet'])",
    "rosey-bot migrate, db-info": (
        "from rosey_bot import cli; "
        "rc = cli.main(['--config', cfg, 'migrate']) or cli.main(['--config', cfg, 'db-info'])"
    ),
    "answers check": (
        "import io; sys.stdin = io.StringIO('lobby'); from rosey_bot import answers; "
        "rc = answers.main(['check', 'server.channel'])"
    ),
    "answers owners": "from rosey_bot import answers; rc = answers.main(['owners', '--config', cfg])",
    "rosey-dashboard --export-config": (
        "from rosey_bot.dashboard import cli; rc = cli.main(['--config', cfg, '--export-config', out])"
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_command_loads_none_of_the_heavy_libraries(case, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG.format(db=tmp_path / "rosey.db"))
    program = "\n".join(
        [
            "import json, sys",
            f"cfg, out = {str(cfg)!r}, {str(tmp_path / 'export.toml')!r}",
            CASES[case],
            f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)",
            "print(json.dumps({'rc': rc, 'loaded': loaded}))",
        ]
    )
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rc"] == 0, f"{case} failed: {proc.stdout}{proc.stderr}"
    assert result["loaded"] == [], f"{case} imported {result['loaded']}"

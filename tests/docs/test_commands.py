"""Every command in README.md and docs/*.md is one the project (or Debian 12) really has.

The extraction convention and what is checked are described in tests/docs/doccommands.py.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.docs import doccommands as dc


def test_every_documented_command_is_real():
    commands, problems = dc.check_docs()
    assert not problems, f"{len(problems)} documented command(s) name something that does not exist:\n" + "\n".join(
        problems
    )
    # The docs really were read: the runbooks' key commands are among those checked.
    seen = {" ".join(c.argv[:2]) for c in commands}
    expected_starts = (
        "make release",
        "make rollback",
        "rosey-bot restore",
        "rosey-healthcheck --wait",
        "apt-get install",
    )
    for expected in expected_starts:
        assert expected in seen, f"no documented command starts with {expected!r}; extraction broke?"
    docs_with_commands = {c.doc.split(":")[0] for c in commands}
    for doc in ("README.md", "docs/DEPLOYMENT.md", "docs/RUNBOOK.md", "docs/ROLLBACK-RUNBOOK.md"):
        assert doc in docs_with_commands, f"no commands found in {doc}"
    assert len(commands) >= 80


def _problems(tmp_path: Path, markdown: str) -> list[str]:
    doc = tmp_path / "DOC.md"
    doc.write_text(textwrap.dedent(markdown))
    return [p for c in dc.doc_commands(doc, "DOC.md") for p in dc.check_command(c)]


@pytest.mark.parametrize(
    "command, complaint",
    [
        ("rosey-bot frobnicate", "invalid choice: 'frobnicate'"),
        ("rosey-bot check-config --no-such-flag", "unrecognized arguments: --no-such-flag"),
        ("rosey-healthcheck --wiat 60", "unrecognized arguments: --wiat"),
        ("rosey-healthcheck --wait soon", "invalid float value"),
        ("rosey-report --period fortnight", "bad duration"),
        ("rosey-bot restore", "the following arguments are required: BACKUP_FILE"),
        ("/usr/bin/rosey-dashboard --bind 0.0.0.0", "unrecognized arguments: --bind"),
        ("make deplyo ENV=production", "make: no target 'deplyo'"),
        ("make deploy ENVIRONMENT=production VERSION=1.2.3", "variable ENVIRONMENT is not used"),
        ("repo/unpublish.sh 1.2.3", "repo/unpublish.sh does not exist"),
        ("repo/lib.sh", "repo/lib.sh is not executable"),
        ("repo/prune.sh --keep-last 5", "repo/prune.sh has no option --keep-last"),
        ("rosey-ctl status", "unknown program 'rosey-ctl'"),
        ("frobtool --x", "unknown program 'frobtool'"),
        ("systemctl restart rosey-bot-worker", "the project ships no unit rosey-bot-worker"),
        ("systemctl reboot-the-bot rosey-bot", "systemctl has no command 'reboot-the-bot'"),
        ("journalctl -u rosey-bot --no-pagr", "journalctl has no option --no-pagr"),
        ("apt-get install --allow-downgrade rosey-bot=1.0.0", "apt-get has no option --allow-downgrade"),
        ("apt-get install rosey-bots", "the project builds no package rosey-bots"),
        ("apt-get upgrayedd", "apt-get has no command 'upgrayedd'"),
        (".venv/bin/pytest tests/nosuch", "tests/nosuch does not exist"),
        (".venv/bin/python benchmarks/bench_dashboard.py --rounds 3", "has no option --rounds"),
        ("ansible-playbook deploy/playbooks/deploy.yml", "unknown program 'ansible-playbook'"),
        ("ls deploy/playbooks/upgrade.yml", "deploy/playbooks/upgrade.yml does not exist"),
        # Hidden inside the shell's structure: substitutions, pipes, lists, wrappers, continuations.
        ("V=$(rosey-bot db-inf --json | head -n 1)", "invalid choice: 'db-inf'"),
        (
            "dpkg -l rosey-bot && rosey-healthcheck --ready --expected-version 1.0.0",
            "unrecognized arguments: --expected-version",
        ),
        ("sudo make rollbak", "no target 'rollbak'"),
        ("rosey-healthcheck \\\n    --wait 60 \\\n    --readdy", "unrecognized arguments: --readdy"),
        ("cat >/tmp/x <<EOF\nnot a command\nEOF\nrosey-bot migrat", "invalid choice: 'migrat'"),
    ],
)
def test_checker_catches_invented_names(tmp_path, command, complaint):
    problems = _problems(tmp_path, f"```sh\n{command}\n```\n")
    assert any(complaint in p for p in problems), f"{command!r} was not caught as {complaint!r}: {problems}"


def test_checker_accepts_real_commands_and_skips_non_shell(tmp_path):
    problems = _problems(
        tmp_path,
        """
        ```sh
        # a comment, then real commands
        PREVIOUS=$(zgrep -h ' upgrade rosey-bot:' /var/log/dpkg.log* | sort | tail -n 1 | awk '{print $5}')
        apt-get install -y --allow-downgrades "rosey-bot=$PREVIOUS"
        rosey-healthcheck --wait 60 --expect-version "$PREVIOUS" && rosey-bot db-info --json
        make rollback ENV=production VERSION=1.2.2
        cat > /etc/rosey-bot/config.toml <<EOF
        [server]
        url = "https://cytu.be"
        EOF
        repo/withdraw.sh 1.2.3
        ```

        ```yaml
        - frobtool: --nothing
        ```

        ```text
        rosey-bot (each host) --> Prometheus
        ```

        ```
        HOST   INSTALLED
        ```

        ```console
        $ rosey-bot check-config
        /etc/rosey-bot/config.toml: ok
        ```
        """,
    )
    assert problems == []


def test_console_and_unlabeled_blocks_are_read_by_the_convention(tmp_path):
    doc = tmp_path / "DOC.md"
    doc.write_text(
        "```console\n$ rosey-bot check-config\nrosey-bot frobnicate (output, not a command)\n```\n\n"
        "```\n$ make audit ENV=production\nHOST INSTALLED\n```\n\n"
        "```\nrosey-report [--period 24h] [--env ENV]\n```\n\n"
        "```\nnot-a-program says hello\n```\n"
    )
    argvs = [c.argv for c in dc.doc_commands(doc, "DOC.md")]
    assert argvs == [
        ["rosey-bot", "check-config"],
        ["make", "audit", "ENV=production"],
        ["rosey-report", "[--period", "24h]", "[--env", "ENV]"],
    ]
    # A synopsis checks option names against the parser, not the metavariables' values.
    assert _problems(tmp_path, "```\nrosey-report [--period PERIOD] [--end TIME]\n```\n") == []
    assert _problems(tmp_path, "```\nrosey-report [--periodd PERIOD]\n```\n") == [
        "DOC.md:1: rosey-report [--periodd PERIOD]\n    -> rosey-report has no option --periodd"
    ]


def test_section_blocks_are_found_in_order(tmp_path):
    doc = tmp_path / "DOC.md"
    doc.write_text("# T\n\n## A\n\n```sh\none\n```\n\ntext\n\n```sh\ntwo\n```\n\n## B\n\n```sh\nthree\n```\n")
    assert dc.blocks_of_section(doc, "A") == ["one", "two"]
    assert dc.blocks_of_section(doc, "B") == ["three"]
    with pytest.raises(LookupError):
        dc.blocks_of_section(doc, "C")


def _shell_lines(block: str) -> list[str]:
    """The block's lines (heredoc bodies included), comments dropped, assigned values elided."""
    lines = []
    for line in block.splitlines():
        line = dc._without_comment(line).strip()
        if m := re.match(r"^([A-Za-z_]\w*)=", line):
            line = m.group(1) + "=..."  # values of the variables the reader sets are examples
        if line:
            lines.append(line)
    return lines


def test_readme_set_up_is_two_commands_and_quick_start_agrees_with_deployment():
    readme = dc.ROOT / "README.md"
    assert dc.blocks_of_section(readme, "Set-up (Debian 12, as root)") == ["make release\nmake test"]
    build, server = dc.blocks_of_section(readme, "Quick start on a server")
    assert _shell_lines(build) == ["make release", "gpg --show-keys build/apt/rosey-archive-keyring.gpg"]
    manual = dc.blocks_of_section(dc.ROOT / "docs/DEPLOYMENT.md", "Manual install on one server")
    deployment = {line for block in manual for line in _shell_lines(block)}
    # The same flow, no hand edit in either: the CyTube answers go to debconf.
    differing = [line for line in _shell_lines(server) if line not in deployment]
    assert differing == [], f"README's quick start says what DEPLOYMENT.md's manual install does not: {differing}"
    assert not any("editor" in line or line.startswith("sed -i") for line in deployment | set(_shell_lines(server)))

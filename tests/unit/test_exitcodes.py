"""One table of exit statuses: the docs and man pages say what exitcodes.TABLE says, and argparse obeys it."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from rosey_bot import exitcodes
from tests.support.paths import ROOT

PROGRAMS = ("rosey-bot", "rosey-healthcheck", "rosey-report", "rosey-dashboard")


def console_scripts() -> dict[str, importlib.metadata.EntryPoint]:
    eps = importlib.metadata.distribution("rosey-bot").entry_points
    return {ep.name: ep for ep in eps if ep.group == "console_scripts"}


def test_every_console_script_is_in_the_table():
    assert set(console_scripts()) == set(PROGRAMS)
    assert {command.split()[0] for command in exitcodes.TABLE} == set(PROGRAMS)


def test_design_doc_carries_the_table():
    design = (ROOT / "docs/DESIGN.md").read_text()
    assert exitcodes.markdown_table() in design, "regenerate the table: print(exitcodes.markdown_table())"
    # ...and no second, hand-written exit table elsewhere in it.
    assert len(re.findall(r"^\| command \| 0 \|", design, re.M)) == 1


@pytest.mark.parametrize("program", PROGRAMS)
def test_man_page_exit_status_is_the_table(program):
    page = (ROOT / "debian/man" / f"{program}.1").read_text()
    section = re.search(r"^\.SH EXIT STATUS\n.*?(?=^\.SH |\Z)", page, re.M | re.S)
    assert section, f"{program}.1 has no EXIT STATUS section"
    assert section.group(0).rstrip("\n") == exitcodes.man_exit_status(program)


def test_the_codes_are_sysexits_and_usage_is_not_argparse_2():
    assert (exitcodes.EX_USAGE, exitcodes.EX_UNAVAILABLE, exitcodes.EX_CONFIG) == (64, 69, 78)
    assert 2 not in exitcodes.codes()
    for meanings in exitcodes.TABLE.values():
        assert {exitcodes.OK, exitcodes.EX_USAGE} <= set(meanings)


@pytest.mark.parametrize(
    "argv",
    [
        ["rosey-bot", "--no-such-option"],
        ["rosey-bot", "check-config", "--no-such-option"],
        ["rosey-bot", "no-such-command"],
        ["rosey-healthcheck", "--wait", "soon"],
        ["rosey-report", "--period", "fortnight"],
        ["rosey-dashboard", "--port", "0"],
    ],
)
def test_usage_errors_exit_64(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        console_scripts()[argv[0]].load()(argv[1:])
    assert exc.value.code == exitcodes.EX_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and f"{argv[0]}" in err and "error:" in err, err


@pytest.mark.parametrize(
    "argv",
    [["rosey-bot"], ["rosey-bot", "check-config"], ["rosey-bot", "db-info"], *([p] for p in PROGRAMS[1:])],
)
def test_version_is_the_installed_version(argv, capsys):
    from rosey_bot.version import installed_version

    with pytest.raises(SystemExit) as exc:
        console_scripts()[argv[0]].load()([*argv[1:], "--version"])
    assert exc.value.code == exitcodes.OK
    assert capsys.readouterr().out == f"{argv[0]} {installed_version()}\n"
